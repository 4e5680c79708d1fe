package dev.ufork.apps.kv;

import dev.ufork.apps.Command;
import dev.ufork.apps.Invocation;

/**
 * The kv server's commands on the {@code ufork} command line: {@code ufork kv} and {@code ufork bench kv}.
 * <p>
 * Thread safety: stateless.
 */
public final class KvCommands
{
    private KvCommands()
    {
    }

    /** @return {@code ufork kv}: the Redis-compatible server. */
    public static Command server()
    {
        return new Command()
        {
            @Override
            public String name()
            {
                return "kv";
            }

            @Override
            public String summary()
            {
                return "a Redis-compatible server whose keyspace lives in one µprocess; BGSAVE forks it";
            }

            @Override
            public int run(final Invocation invocation)
            {
                return KvMain.run(invocation.args().toArray(String[]::new), invocation.out(), invocation.err());
            }
        };
    }

    /** @return {@code ufork bench kv}: ufork kv against a real redis-server, driven by redis-benchmark. */
    public static Command bench()
    {
        return new Command()
        {
            @Override
            public String name()
            {
                return "kv";
            }

            @Override
            public String summary()
            {
                return "ufork kv against redis-server: fork latency, BGSAVE time, CoW bytes, SET/GET throughput";
            }

            @Override
            public int run(final Invocation invocation)
            {
                return KvBench.run(invocation.args().toArray(String[]::new), invocation.out(), invocation.err());
            }
        };
    }
}
