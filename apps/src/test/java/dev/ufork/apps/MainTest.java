package dev.ufork.apps;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's dispatch, help and exit statuses, without running anything long. */
class MainTest
{
    /** What one run of the command line printed and returned. */
    record Run(int status, String out, String err)
    {
    }

    static Run run(final Map<String, String> environment, final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            status = Main.run(List.of(args), o, e, environment);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(final String... args)
    {
        return run(System.getenv(), args);
    }

    @Test
    void noCommandIsAUsageError()
    {
        final Run run = run();
        assertEquals(Main.USAGE, run.status());
        assertTrue(run.err().contains("ufork: missing command; one of: demo, kv, bench"), run.err());
        assertTrue(run.err().contains("Run 'ufork --help' for usage."), run.err());
    }

    @Test
    void helpListsTheCommandsAtEveryLevel()
    {
        final Run top = run("--help");
        assertEquals(0, top.status());
        assertTrue(top.out().contains("  demo "), top.out());
        assertTrue(top.out().contains("  bench "), top.out());
        final Run bench = run("bench", "-h");
        assertEquals(0, bench.status());
        assertTrue(bench.out().startsWith("usage: ufork bench <command>"), bench.out());
        assertTrue(bench.out().contains("  spawn ") && bench.out().contains("  pipe "), bench.out());
        for (final String[] command : List.of(new String[] {"demo", "--help"}, new String[] {"bench", "spawn", "--help"},
            new String[] {"bench", "pipe", "-h"}))
        {
            final Run help = run(command);
            assertEquals(0, help.status(), String.join(" ", command));
            assertTrue(help.out().startsWith("usage: ufork " + command[0]), help.out());
            assertTrue(help.out().contains("--seconds S") && help.out().contains("--ops N"), help.out());
            assertEquals("", help.err());
        }
        assertTrue(run("demo", "--help").out().contains("--entries N"));
        assertTrue(run("demo", "--help").out().contains("S seconds per system (default 1)"));
        assertTrue(run("bench", "pipe", "--help").out().contains("S seconds per system (default 2)"));
        assertTrue(run("bench", "spawn", "--help").out().contains("--mode MODE"));
    }

    @Test
    void unknownCommandsAndBadOptionsExitWithStatusTwoAndSayWhy()
    {
        final Run unknown = run("serve");
        assertEquals(Main.USAGE, unknown.status());
        assertTrue(unknown.err().contains("ufork: unknown command 'serve'; one of: demo, kv, bench"), unknown.err());

        final Run unknownBench = run("bench", "fork2");
        assertEquals(Main.USAGE, unknownBench.status());
        assertTrue(unknownBench.err().contains("ufork bench: unknown command 'fork2'; one of: spawn, pipe, kv"),
            unknownBench.err());

        final Run missing = run("bench");
        assertEquals(Main.USAGE, missing.status());
        assertTrue(missing.err().contains("ufork bench: missing command"), missing.err());

        final Run both = run("bench", "spawn", "--ops", "10", "--seconds", "1");
        assertEquals(Main.USAGE, both.status());
        assertTrue(both.err().contains("ufork bench spawn: give --ops or --seconds, not both"), both.err());
        assertTrue(both.err().contains("Run 'ufork bench spawn --help' for usage."), both.err());

        final Run zero = run("bench", "pipe", "--ops", "0");
        assertEquals(Main.USAGE, zero.status());
        assertTrue(zero.err().contains("--ops must be between 1 and"), zero.err());

        final Run mode = run("bench", "spawn", "--mode", "cow");
        assertEquals(Main.USAGE, mode.status());
        assertTrue(mode.err().contains("--mode must be one of copa, coa, copy, got 'cow'"), mode.err());

        final Run entries = run("demo", "--entries", "-5");
        assertEquals(Main.USAGE, entries.status());
        assertTrue(entries.err().contains("ufork demo: --entries must be between 1 and"), entries.err());

        final Run stray = run("demo", "now");
        assertEquals(Main.USAGE, stray.status());
        assertTrue(stray.err().contains("ufork demo: unexpected argument 'now'"), stray.err());
        assertEquals("", stray.out());
    }

    @Test
    void subcommandNamesAreUniqueWithinAGroup()
    {
        assertThrows(IllegalArgumentException.class, () -> new CommandGroup("x", "x",
            List.of(BenchCommand.spawn(), BenchCommand.spawn())));
        assertEquals(List.of("demo", "kv", "bench"), Main.commands().commandNames());
    }
}
