package dev.ufork.apps;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serial;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A small C program built from source at run time with the system C compiler, to measure what Linux does beside
 * what ufork does, in the same run. The source comes from a resource (shipped in a jar) or a file; it is compiled
 * with {@code $CC -O2} (or {@code cc}, or {@code gcc}, found on {@code PATH}) into a temporary directory, then run
 * with arguments, and its standard output read back as lines, or as {@code key value} pairs.
 * <p>
 * When there is no compiler, or the build fails, {@link #build} throws {@link UnavailableException} whose message
 * says why in one line, so the caller can print it and measure ufork alone.
 * <p>
 * Thread safety: {@link #run} from one thread at a time; {@link #close()} from any thread (a shutdown hook), and it
 * ends a program that is still running. Lifetime: until {@link #close()}, which deletes the temporary directory.
 */
public final class NativeBaseline implements AutoCloseable
{
    /** How long a compile may take before it is called stuck. */
    private static final long COMPILE_TIMEOUT_SECONDS = 120;
    private static final Pattern KEY_VALUE = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s+(\\S.*)");

    /**
     * The baseline cannot be measured: no C compiler, or the program did not compile. The message says why.
     * <p>
     * Thread safety: immutable.
     */
    public static final class UnavailableException extends Exception
    {
        @Serial
        private static final long serialVersionUID = 1L;

        /** @param message why, in one line. */
        public UnavailableException(final String message)
        {
            super(message);
        }
    }

    /**
     * What one run printed.
     * <p>
     * Thread safety: immutable.
     *
     * @param lines standard output, line by line, without empty lines.
     */
    public record Output(List<String> lines)
    {
        /** Copies the lines. */
        public Output
        {
            lines = List.copyOf(lines);
        }

        /**
         * @return the lines read as {@code key value} pairs, in order.
         * @throws IllegalStateException for a line that is not one, or a key given twice.
         */
        public Map<String, String> keyValues()
        {
            final Map<String, String> values = new LinkedHashMap<>();
            for (final String line : lines)
            {
                final var m = KEY_VALUE.matcher(line.strip());
                if (!m.matches())
                {
                    throw new IllegalStateException("expected 'key value', got '" + line + "'");
                }
                if (values.putIfAbsent(m.group(1), m.group(2).strip()) != null)
                {
                    throw new IllegalStateException("'" + m.group(1) + "' printed twice");
                }
            }
            return Collections.unmodifiableMap(values);
        }

        /**
         * @param key a key the program prints.
         * @return its value as a number.
         * @throws IllegalStateException if it was not printed or is not a number.
         */
        public double number(final String key)
        {
            final String value = keyValues().get(key);
            if (value == null)
            {
                throw new IllegalStateException("no '" + key + "' in the output " + lines);
            }
            try
            {
                return Double.parseDouble(value);
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalStateException("'" + key + "' is not a number: '" + value + "'", e);
            }
        }
    }

    private final String name;
    private final Path directory;
    private final Path binary;
    private final String compiler;
    private volatile Process running;
    private volatile boolean closed;

    private NativeBaseline(final String name, final Path directory, final Path binary, final String compiler)
    {
        this.name = name;
        this.directory = directory;
        this.binary = binary;
        this.compiler = compiler;
    }

    /**
     * Builds a program from a resource, such as {@code dev/ufork/apps/native/spawn.c} in the apps jar.
     *
     * @param anchor      a class whose loader sees the resource.
     * @param resource    the resource's absolute name (no leading slash), ending in {@code .c}.
     * @param environment the environment to find the compiler in ({@code CC}, {@code PATH}).
     * @return the built program; close it.
     * @throws UnavailableException if there is no compiler or the build failed.
     */
    public static NativeBaseline build(final Class<?> anchor, final String resource,
        final Map<String, String> environment) throws UnavailableException
    {
        final byte[] source;
        try (InputStream in = anchor.getClassLoader().getResourceAsStream(resource))
        {
            if (in == null)
            {
                throw new UnavailableException("C source " + resource + " is not on the class path");
            }
            source = in.readAllBytes();
        }
        catch (final IOException e)
        {
            throw new UnavailableException("cannot read C source " + resource + ": " + e.getMessage());
        }
        final String file = resource.substring(resource.lastIndexOf('/') + 1);
        return build(file, source, environment);
    }

    /**
     * Builds a program from a source file.
     *
     * @param source      the C file.
     * @param environment the environment to find the compiler in.
     * @return the built program; close it.
     * @throws UnavailableException if there is no compiler, the file cannot be read, or the build failed.
     */
    public static NativeBaseline build(final Path source, final Map<String, String> environment)
        throws UnavailableException
    {
        try
        {
            return build(source.getFileName().toString(), Files.readAllBytes(source), environment);
        }
        catch (final IOException e)
        {
            throw new UnavailableException("cannot read C source " + source + ": " + e.getMessage());
        }
    }

    private static NativeBaseline build(final String file, final byte[] source, final Map<String, String> environment)
        throws UnavailableException
    {
        if (!file.endsWith(".c"))
        {
            throw new IllegalArgumentException("not a C file: " + file);
        }
        final List<String> compiler = findCompiler(environment);
        final String name = file.substring(0, file.length() - 2);
        Path directory = null;
        try
        {
            directory = Files.createTempDirectory("ufork-native-");
            final Path sourceFile = Files.write(directory.resolve(file), source);
            final Path binary = directory.resolve(name);
            final List<String> command = new ArrayList<>(compiler);
            command.addAll(List.of("-O2", "-o", binary.toString(), sourceFile.toString()));
            final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            final String path = environment.get("PATH");
            if (path != null)
            {
                builder.environment().put("PATH", path);
            }
            final Process cc = builder.start();
            final String output = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!cc.waitFor(COMPILE_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                cc.destroyForcibly();
                throw new UnavailableException(String.join(" ", command) + " did not finish in "
                    + COMPILE_TIMEOUT_SECONDS + " s");
            }
            if (cc.exitValue() != 0 || !Files.isExecutable(binary))
            {
                throw new UnavailableException(String.join(" ", compiler) + " -O2 " + file + " failed (exit status "
                    + cc.exitValue() + ")" + (output.isEmpty() ? "" : ": " + output.lines().findFirst().orElse("")));
            }
            final NativeBaseline built = new NativeBaseline(name, directory, binary, String.join(" ", compiler));
            directory = null;
            return built;
        }
        catch (final IOException e)
        {
            throw new UnavailableException("cannot build " + file + ": " + e.getMessage());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while building " + file);
        }
        finally
        {
            deleteQuietly(directory);
        }
    }

    /**
     * Finds the C compiler: {@code $CC} if set (its first word is the program, the rest are flags), else {@code cc},
     * else {@code gcc}, on {@code PATH}. A {@code $CC} that cannot be found is passed over for {@code cc} and
     * {@code gcc}.
     *
     * @param environment the environment ({@code CC}, {@code PATH}).
     * @return the compiler's command: its absolute path, then any flags from {@code $CC}.
     * @throws UnavailableException if none is found; the message says where it looked.
     */
    public static List<String> findCompiler(final Map<String, String> environment) throws UnavailableException
    {
        final String path = environment.getOrDefault("PATH", "");
        final String cc = environment.get("CC");
        String rejected = "";
        if (cc != null && !cc.isBlank())
        {
            final List<String> words = List.of(cc.strip().split("\\s+"));
            final Path found = resolve(words.getFirst(), path);
            if (found != null)
            {
                final List<String> command = new ArrayList<>(words);
                command.set(0, found.toString());
                return command;
            }
            rejected = "$CC (" + cc.strip() + ") is not an executable; ";
        }
        for (final String name : List.of("cc", "gcc"))
        {
            final Path found = resolve(name, path);
            if (found != null)
            {
                return List.of(found.toString());
            }
        }
        throw new UnavailableException("no C compiler found: " + rejected + "no cc or gcc on PATH");
    }

    private static Path resolve(final String program, final String path)
    {
        if (program.contains(File.separator))
        {
            final Path candidate = Path.of(program);
            return Files.isRegularFile(candidate) && Files.isExecutable(candidate) ? candidate.toAbsolutePath() : null;
        }
        for (final String dir : path.split(File.pathSeparator))
        {
            if (dir.isEmpty())
            {
                continue;
            }
            final Path candidate = Path.of(dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
            {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    /** @return the program's name (its source file's, without {@code .c}). */
    public String name()
    {
        return name;
    }

    /** @return the built program, in a temporary directory that {@link #close()} deletes. */
    public Path binary()
    {
        return binary;
    }

    /** @return the compiler command it was built with, e.g. {@code "/usr/bin/cc"}. */
    public String compiler()
    {
        return compiler;
    }

    /**
     * Runs the program to its end.
     *
     * @param args its arguments.
     * @return what it printed on standard output.
     * @throws IllegalStateException if it could not start, exited with a status other than 0 (the message holds its
     *                               standard error), or this baseline is closed.
     * @throws InterruptedException  if interrupted while waiting (the program is ended).
     */
    public Output run(final String... args) throws InterruptedException
    {
        if (closed)
        {
            throw new IllegalStateException(name + " is closed");
        }
        final List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        final Path errors = directory.resolve(name + ".err");
        final Process process;
        try
        {
            process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("cannot run " + name + ": " + e.getMessage(), e);
        }
        running = process;
        try
        {
            process.getOutputStream().close();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            final int status = process.waitFor();
            if (status != 0)
            {
                throw new IllegalStateException(String.format(Locale.ROOT, "%s %s exited with status %d%s", name,
                    String.join(" ", args), status, closed ? " (closed meanwhile)" : ": " + readQuietly(errors)));
            }
            final List<String> lines = new ArrayList<>();
            for (final String line : output.split("\n"))
            {
                if (!line.isBlank())
                {
                    lines.add(line.strip());
                }
            }
            return new Output(lines);
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("cannot read the output of " + name + ": " + e.getMessage(), e);
        }
        finally
        {
            running = null;
            process.destroyForcibly();
        }
    }

    private static String readQuietly(final Path file)
    {
        try
        {
            return Files.readString(file).strip();
        }
        catch (final IOException e)
        {
            return "(no standard error: " + e.getMessage() + ")";
        }
    }

    /** Ends a program still running and deletes the temporary directory. Idempotent. */
    @Override
    public void close()
    {
        closed = true;
        final Process process = running;
        if (process != null)
        {
            process.destroyForcibly();
        }
        deleteQuietly(directory);
    }

    private static void deleteQuietly(final Path directory)
    {
        if (directory == null)
        {
            return;
        }
        try (var entries = Files.list(directory))
        {
            for (final Path entry : entries.toList())
            {
                Files.deleteIfExists(entry);
            }
            Files.deleteIfExists(directory);
        }
        catch (final IOException e)
        {
            // A file left in the temporary directory is harmless; the OS cleans /tmp.
        }
    }
}
