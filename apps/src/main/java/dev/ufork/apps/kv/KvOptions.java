package dev.ufork.apps.kv;

import dev.ufork.kernel.CopyMode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@code ufork kv}, parsed and checked.
 *
 * @param port       TCP port (0 for an ephemeral one, reported on standard output).
 * @param bind       the address to listen on.
 * @param dir        the directory of {@code dump.rdb} (the µprocesses' file-system root).
 * @param dbFilename the snapshot's file name.
 * @param forkMode   how BGSAVE forks.
 * @param areaBytes  the server µprocess's area: the most memory the keyspace may use (reserved, not committed).
 * @param save       the save points, as Redis's {@code save} setting ("" for none).
 */
record KvOptions(int port, String bind, Path dir, String dbFilename, CopyMode forkMode, long areaBytes, String save)
{
    /** Redis's default save points. */
    static final String DEFAULT_SAVE = "3600 1 300 100 60 10000";

    static final String USAGE = """
        usage: ufork kv [--port N] [--bind ADDR] [--dir DIR] [--dbfilename NAME] [--fork-mode copa|coa|copy]
                        [--memory SIZE] [--save "SECONDS CHANGES ..."]

        A Redis-compatible server (RESP2) whose whole keyspace lives in one µprocess's memory; BGSAVE forks it.

          --port N          TCP port (default 6379; 0 picks a free one and prints it)
          --bind ADDR       address to listen on (default 127.0.0.1)
          --dir DIR         where dump.rdb is loaded from at start and saved to (default: the working directory)
          --dbfilename NAME the snapshot file (default dump.rdb)
          --fork-mode M     how BGSAVE's child gets its copy: copa (default), coa or copy
          --memory SIZE     the most the keyspace may use, e.g. 512M, 4G (default 1G; reserved, not committed)
          --save "S C ..."  save points: BGSAVE after S seconds if at least C changes (default "%s"; "" for none)
        """.formatted(DEFAULT_SAVE);

    /**
     * @param args the arguments after {@code kv}.
     * @return the options, or null if {@code --help} was asked for.
     * @throws IllegalArgumentException with a message for the user.
     */
    static KvOptions parse(final String[] args)
    {
        int port = 6379;
        String bind = "127.0.0.1";
        Path dir = Path.of("").toAbsolutePath();
        String dbFilename = "dump.rdb";
        CopyMode mode = CopyMode.COPA;
        long area = 1L << 30;
        String save = DEFAULT_SAVE;
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help"))
            {
                return null;
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(arg.startsWith("--") ? arg + " needs a value"
                    : "unknown argument '" + arg + "'");
            }
            final String value = args[++i];
            switch (arg)
            {
                case "--port" -> port = parsePort(value);
                case "--bind" -> bind = value;
                case "--dir" -> dir = Path.of(value).toAbsolutePath();
                case "--dbfilename" ->
                {
                    if (value.isEmpty() || value.contains("/"))
                    {
                        throw new IllegalArgumentException("--dbfilename must be a plain file name, not '" + value + "'");
                    }
                    dbFilename = value;
                }
                case "--fork-mode" -> mode = parseMode(value);
                case "--memory" -> area = parseSize(value);
                case "--save" -> save = checkSave(value);
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'");
            }
        }
        return new KvOptions(port, bind, dir, dbFilename, mode, area, save);
    }

    static CopyMode parseMode(final String value)
    {
        return switch (value.toLowerCase(Locale.ROOT))
        {
            case "copa" -> CopyMode.COPA;
            case "coa" -> CopyMode.COA;
            case "copy" -> CopyMode.COPY;
            default -> throw new IllegalArgumentException("unknown fork mode '" + value + "' (known: copa, coa, copy)");
        };
    }

    private static int parsePort(final String value)
    {
        try
        {
            final int port = Integer.parseInt(value);
            if (port < 0 || port > 65535)
            {
                throw new IllegalArgumentException("--port must be between 0 and 65535, not " + port);
            }
            return port;
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("--port needs a number, not '" + value + "'");
        }
    }

    static long parseSize(final String value)
    {
        final String v = value.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        String digits = v;
        if (v.endsWith("K") || v.endsWith("M") || v.endsWith("G"))
        {
            unit = v.endsWith("K") ? 1L << 10 : v.endsWith("M") ? 1L << 20 : 1L << 30;
            digits = v.substring(0, v.length() - 1);
        }
        try
        {
            final long n = Long.parseLong(digits);
            if (n <= 0 || n > (64L << 30) / unit)
            {
                throw new IllegalArgumentException("--memory out of range (up to 64G): " + value);
            }
            final long bytes = n * unit;
            if (bytes < 1L << 20)
            {
                throw new IllegalArgumentException("--memory must be at least 1M, not " + value);
            }
            return bytes;
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("--memory needs a size like 512M or 4G, not '" + value + "'");
        }
    }

    /** @return the save points if they are pairs of positive integers, as Redis requires. */
    static String checkSave(final String value)
    {
        final List<Long> numbers = new ArrayList<>();
        for (final String word : value.trim().split("\\s+"))
        {
            if (word.isEmpty())
            {
                continue;
            }
            try
            {
                final long n = Long.parseLong(word);
                if (n < 0)
                {
                    throw new NumberFormatException();
                }
                numbers.add(n);
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException("Invalid save parameters");
            }
        }
        if (numbers.size() % 2 != 0)
        {
            throw new IllegalArgumentException("Invalid save parameters");
        }
        return value.trim();
    }
}
