package dev.ufork.perf.forkbench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Linux baseline: {@code perf/src/main/c/forkbench.c}, compiled at bench time with the system C compiler
 * ({@code cc -O2}) into a temporary directory, and run once per size. The C program writes every page of SIZE bytes
 * of private anonymous memory, then times FORKS calls of {@code fork(2)} from the parent's side and prints them
 * (see the comment at the top of the C file).
 * <p>
 * Lifetime: {@link #close()} deletes the temporary directory. Thread safety: not thread-safe.
 */
final class LinuxForkBaseline implements AutoCloseable
{
    /** System property naming the C source, for running outside the source tree. */
    static final String SOURCE_PROPERTY = "ufork.forkbench.source";
    private static final String SOURCE = "forkbench.c";

    /**
     * What one run of the C program measured.
     *
     * @param latenciesUs       the measured forks' latencies in µs (warm-up dropped).
     * @param privateDirtyBytes the Private_Dirty of a child after the fork (and its writes with touch), or −1.
     */
    record Result(double[] latenciesUs, long privateDirtyBytes)
    {
    }

    private final Path directory;
    private final Path binary;

    private LinuxForkBaseline(final Path directory, final Path binary)
    {
        this.directory = directory;
        this.binary = binary;
    }

    /**
     * Finds the C source and a C compiler and builds the baseline.
     *
     * @param log where to say what happens, and why the baseline is unavailable if it is.
     * @return the built baseline, or null if there is no compiler, no source, or the build failed (said on
     *         {@code log}).
     */
    static LinuxForkBaseline build(final PrintStream log)
    {
        final Path compiler = findCompiler();
        if (compiler == null)
        {
            log.println("forkbench: no C compiler found (looked for $CC, cc and gcc on PATH); skipping the linux rows");
            return null;
        }
        final Path source = findSource();
        if (source == null)
        {
            log.println("forkbench: C source " + SOURCE + " not found (looked next to the jar for perf/src/main/c/ "
                + "and in the working directory; set -D" + SOURCE_PROPERTY + "=PATH); skipping the linux rows");
            return null;
        }
        Path directory = null;
        try
        {
            directory = Files.createTempDirectory("ufork-forkbench");
            final Path binary = directory.resolve("forkbench");
            final Process cc = new ProcessBuilder(compiler.toString(), "-O2", "-o", binary.toString(),
                source.toString()).redirectErrorStream(true).start();
            final String output = readAll(cc.getInputStream());
            final int status = cc.waitFor();
            if (status != 0 || !Files.isExecutable(binary))
            {
                log.println("forkbench: " + compiler + " -O2 " + source + " failed (exit status " + status
                    + "); skipping the linux rows");
                log.print(output);
                deleteQuietly(directory);
                return null;
            }
            log.println("forkbench: built the linux baseline with " + compiler + " -O2 from " + source);
            return new LinuxForkBaseline(directory, binary);
        }
        catch (final IOException e)
        {
            log.println("forkbench: could not build the linux baseline: " + e.getMessage()
                + "; skipping the linux rows");
            deleteQuietly(directory);
            return null;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            deleteQuietly(directory);
            return null;
        }
    }

    /**
     * Runs the C program once.
     *
     * @param size   bytes the process writes before forking.
     * @param forks  forks to measure.
     * @param warmup forks to run first and drop.
     * @param touch  whether each child writes every page and the latency runs until it is reaped.
     * @return the measured latencies and the child's private dirty bytes.
     * @throws IllegalStateException if the program fails or prints something unexpected.
     * @throws InterruptedException  if interrupted while waiting for it.
     */
    Result run(final long size, final int forks, final int warmup, final boolean touch) throws InterruptedException
    {
        final int total = warmup + forks;
        final List<Double> latencies = new ArrayList<>(total);
        long dirty = -1;
        final String output;
        final int status;
        try
        {
            final Process process = new ProcessBuilder(binary.toString(), Long.toString(size), Integer.toString(total),
                touch ? "1" : "0").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            output = readAll(process.getInputStream());
            status = process.waitFor();
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("could not run " + binary + ": " + e.getMessage(), e);
        }
        if (status != 0)
        {
            throw new IllegalStateException(binary.getFileName() + " " + size + " " + total + " " + (touch ? 1 : 0)
                + " failed with exit status " + status);
        }
        for (final String line : output.split("\n"))
        {
            final String l = line.trim();
            if (l.isEmpty())
            {
                continue;
            }
            try
            {
                if (l.startsWith("private_dirty_bytes "))
                {
                    dirty = Long.parseLong(l.substring("private_dirty_bytes ".length()).trim());
                }
                else
                {
                    latencies.add(Double.parseDouble(l));
                }
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalStateException("unexpected output line from the C baseline: '" + l + "'", e);
            }
        }
        if (latencies.size() != total)
        {
            throw new IllegalStateException(String.format(Locale.ROOT,
                "the C baseline printed %d latencies, expected %d", latencies.size(), total));
        }
        final double[] measured = new double[forks];
        for (int i = 0; i < forks; i++)
        {
            measured[i] = latencies.get(warmup + i);
        }
        return new Result(measured, dirty);
    }

    @Override
    public void close()
    {
        deleteQuietly(directory);
    }

    private static Path findCompiler()
    {
        final List<String> names = new ArrayList<>();
        final String cc = System.getenv("CC");
        if (cc != null && !cc.isBlank() && !cc.trim().contains(" "))
        {
            names.add(cc.trim());
        }
        names.add("cc");
        names.add("gcc");
        final String path = System.getenv("PATH");
        for (final String name : names)
        {
            if (name.contains(File.separator))
            {
                final Path candidate = Path.of(name);
                if (Files.isExecutable(candidate))
                {
                    return candidate;
                }
                continue;
            }
            if (path == null)
            {
                continue;
            }
            for (final String dir : path.split(File.pathSeparator))
            {
                if (dir.isEmpty())
                {
                    continue;
                }
                final Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static Path findSource()
    {
        final String property = System.getProperty(SOURCE_PROPERTY);
        if (property != null)
        {
            final Path given = Path.of(property);
            return Files.isRegularFile(given) ? given : null;
        }
        final List<Path> starts = new ArrayList<>();
        final CodeSource code = LinuxForkBaseline.class.getProtectionDomain().getCodeSource();
        if (code != null && code.getLocation() != null)
        {
            try
            {
                // perf/target/benchmarks.jar or perf/target/classes: walk up to perf/ (or the project root).
                starts.add(Path.of(code.getLocation().toURI()).toAbsolutePath());
            }
            catch (final URISyntaxException | IllegalArgumentException e)
            {
                // Not a file location: fall back to the working directory.
            }
        }
        starts.add(Path.of("").toAbsolutePath());
        for (final Path start : starts)
        {
            for (Path dir = start; dir != null; dir = dir.getParent())
            {
                for (final Path candidate : List.of(dir.resolve("src/main/c").resolve(SOURCE),
                    dir.resolve("perf/src/main/c").resolve(SOURCE)))
                {
                    if (Files.isRegularFile(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }
        return null;
    }

    private static String readAll(final InputStream in) throws IOException
    {
        final StringBuilder text = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)))
        {
            final char[] buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0)
            {
                text.append(buffer, 0, n);
            }
        }
        return text.toString();
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
            // A leftover file in the temporary directory is harmless.
        }
    }
}
