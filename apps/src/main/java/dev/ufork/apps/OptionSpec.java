package dev.ufork.apps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options one command accepts ({@code --name VALUE}, {@code --name=VALUE} and flags), its usage text, and the
 * parsing of its arguments. Values are checked when read ({@link Parsed#longValue} and friends), so every message
 * names the option and the bad value. {@code --help} and {@code -h} are always accepted. Hidden options (sizes for
 * tests) parse like the others but stay out of the usage text.
 * <p>
 * Thread safety: build on one thread, then immutable. Lifetime: the command's.
 */
public final class OptionSpec
{
    private record Option(String name, String valueName, String help, boolean hidden)
    {
        boolean takesValue()
        {
            return valueName != null;
        }
    }

    private final String synopsis;
    private final String description;
    private final Map<String, Option> options = new LinkedHashMap<>();

    /**
     * @param synopsis    what follows {@code usage:}, e.g. {@code "ufork bench spawn [options]"}.
     * @param description a paragraph on what the command does.
     */
    public OptionSpec(final String synopsis, final String description)
    {
        this.synopsis = synopsis;
        this.description = description;
    }

    /**
     * @param name      e.g. {@code "--ops"}.
     * @param valueName e.g. {@code "N"}.
     * @param help      one line.
     * @return this.
     */
    public OptionSpec value(final String name, final String valueName, final String help)
    {
        return add(new Option(name, valueName, help, false));
    }

    /**
     * @param name e.g. {@code "--no-linux"}.
     * @param help one line.
     * @return this.
     */
    public OptionSpec flag(final String name, final String help)
    {
        return add(new Option(name, null, help, false));
    }

    /**
     * An option left out of the usage text (for tests and experiments).
     *
     * @param name      e.g. {@code "--latency-forks"}.
     * @param valueName e.g. {@code "N"}.
     * @return this.
     */
    public OptionSpec hiddenValue(final String name, final String valueName)
    {
        return add(new Option(name, valueName, "", true));
    }

    private OptionSpec add(final Option option)
    {
        if (!option.name().startsWith("--") || options.putIfAbsent(option.name(), option) != null)
        {
            throw new IllegalArgumentException("bad or duplicate option name " + option.name());
        }
        return this;
    }

    /** @return the usage text: synopsis, description and the visible options. */
    public String usage()
    {
        final StringBuilder text = new StringBuilder();
        text.append("usage: ").append(synopsis).append("\n\n").append(description).append("\n\n");
        text.append("options:\n");
        final List<String[]> rows = new ArrayList<>();
        for (final Option option : options.values())
        {
            if (!option.hidden())
            {
                rows.add(new String[] {option.takesValue() ? option.name() + " " + option.valueName() : option.name(),
                    option.help()});
            }
        }
        rows.add(new String[] {"-h, --help", "this text"});
        int width = 0;
        for (final String[] row : rows)
        {
            width = Math.max(width, row[0].length());
        }
        for (final String[] row : rows)
        {
            text.append("  ").append(row[0]).append(" ".repeat(width - row[0].length() + 3)).append(row[1])
                .append('\n');
        }
        return text.toString();
    }

    /**
     * @param command the command as typed, for messages.
     * @param args    its arguments.
     * @return what was given.
     * @throws UsageException for an unknown option, a missing value, an option given twice or a stray argument.
     */
    public Parsed parse(final String command, final List<String> args) throws UsageException
    {
        final Map<String, String> values = new HashMap<>();
        boolean help = false;
        for (int i = 0; i < args.size(); i++)
        {
            final String arg = args.get(i);
            if (arg.equals("--help") || arg.equals("-h"))
            {
                help = true;
                continue;
            }
            if (!arg.startsWith("--"))
            {
                throw new UsageException(command, "unexpected argument '" + arg + "'");
            }
            final int equals = arg.indexOf('=');
            final String name = equals < 0 ? arg : arg.substring(0, equals);
            final Option option = options.get(name);
            if (option == null)
            {
                throw new UsageException(command, "unknown option '" + name + "'");
            }
            final String value;
            if (!option.takesValue())
            {
                if (equals >= 0)
                {
                    throw new UsageException(command, name + " takes no value");
                }
                value = "";
            }
            else if (equals >= 0)
            {
                value = arg.substring(equals + 1);
            }
            else if (i + 1 < args.size())
            {
                value = args.get(++i);
            }
            else
            {
                throw new UsageException(command, name + " needs a value (" + option.valueName() + ")");
            }
            if (values.putIfAbsent(name, value) != null)
            {
                throw new UsageException(command, name + " given twice");
            }
        }
        return new Parsed(command, values, help);
    }

    /**
     * The options given on one command line, read with checks.
     * <p>
     * Thread safety: immutable.
     */
    public static final class Parsed
    {
        private final String command;
        private final Map<String, String> values;
        private final boolean help;

        private Parsed(final String command, final Map<String, String> values, final boolean help)
        {
            this.command = command;
            this.values = values;
            this.help = help;
        }

        /** @return whether {@code --help} or {@code -h} was given. */
        public boolean helpRequested()
        {
            return help;
        }

        /** @param name an option. @return whether it was given. */
        public boolean has(final String name)
        {
            return values.containsKey(name);
        }

        /**
         * @param name     an option with a whole-number value.
         * @param fallback the value if it was not given.
         * @param min      the smallest allowed value.
         * @param max      the largest allowed value.
         * @return the value.
         * @throws UsageException if it is not a whole number in {@code [min, max]}.
         */
        public long longValue(final String name, final long fallback, final long min, final long max)
            throws UsageException
        {
            final String text = values.get(name);
            if (text == null)
            {
                return fallback;
            }
            final long value;
            try
            {
                value = Long.parseLong(text.replace("_", ""));
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException(command, name + " needs a whole number, got '" + text + "'");
            }
            if (value < min || value > max)
            {
                throw new UsageException(command, name + " must be between " + min + " and " + max + ", got "
                    + text);
            }
            return value;
        }

        /**
         * @param name     an option with a decimal value.
         * @param fallback the value if it was not given.
         * @param min      the smallest allowed value.
         * @param max      the largest allowed value.
         * @return the value.
         * @throws UsageException if it is not a finite number in {@code [min, max]}.
         */
        public double doubleValue(final String name, final double fallback, final double min, final double max)
            throws UsageException
        {
            final String text = values.get(name);
            if (text == null)
            {
                return fallback;
            }
            final double value;
            try
            {
                value = Double.parseDouble(text);
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException(command, name + " needs a number, got '" + text + "'");
            }
            if (!Double.isFinite(value) || value < min || value > max)
            {
                throw new UsageException(command, String.format(Locale.ROOT, "%s must be between %s and %s, got %s",
                    name, plain(min), plain(max), text));
            }
            return value;
        }

        /**
         * @param name     an option whose value is one of a few words.
         * @param fallback the value if it was not given.
         * @param allowed  the words, lower case.
         * @return the value, lower-cased.
         * @throws UsageException if it is none of them.
         */
        public String choice(final String name, final String fallback, final List<String> allowed)
            throws UsageException
        {
            final String text = values.get(name);
            if (text == null)
            {
                return fallback;
            }
            final String lower = text.toLowerCase(Locale.ROOT);
            if (!allowed.contains(lower))
            {
                throw new UsageException(command, name + " must be one of " + String.join(", ", allowed) + ", got '"
                    + text + "'");
            }
            return lower;
        }

        private static String plain(final double value)
        {
            return value == Math.rint(value) ? Long.toString((long)value) : Double.toString(value);
        }
    }
}
