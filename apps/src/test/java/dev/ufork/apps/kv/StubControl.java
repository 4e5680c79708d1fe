package dev.ufork.apps.kv;

import java.util.LinkedHashMap;
import java.util.Map;

/** A server control for tests of the commands alone: no persistence, a small fixed configuration. */
final class StubControl implements ServerControl
{
    final Map<String, String> config = new LinkedHashMap<>();
    long dirty;

    StubControl()
    {
        config.put("save", "");
        config.put("appendonly", "no");
    }

    @Override
    public String save()
    {
        return null;
    }

    @Override
    public String bgsave(final boolean schedule, final String[] error)
    {
        return "Background saving started";
    }

    @Override
    public long lastSave()
    {
        return 0;
    }

    @Override
    public String shutdown(final Boolean save)
    {
        return "ERR shutdown is not available in tests";
    }

    @Override
    public String info(final String section)
    {
        return "# Server\r\n";
    }

    @Override
    public String configGet(final String name)
    {
        return config.get(name);
    }

    @Override
    public Iterable<String> configNames()
    {
        return config.keySet();
    }

    @Override
    public String configSet(final String name, final String value)
    {
        if (!config.containsKey(name))
        {
            return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'";
        }
        config.put(name, value);
        return null;
    }

    @Override
    public void dirty(final long changes)
    {
        dirty += changes;
    }
}
