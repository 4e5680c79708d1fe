package dev.ufork.apps;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of a command's options and the messages for every kind of bad argument. */
class OptionSpecTest
{
    private static OptionSpec spec()
    {
        return new OptionSpec("ufork test [options]", "A command for tests.")
            .value("--ops", "N", "how many")
            .value("--seconds", "S", "how long")
            .value("--mode", "MODE", "which")
            .flag("--no-linux", "ufork only")
            .hiddenValue("--secret", "N");
    }

    private static UsageException bad(final String... args)
    {
        return assertThrows(UsageException.class, () ->
        {
            final OptionSpec.Parsed parsed = spec().parse("ufork test", List.of(args));
            parsed.longValue("--ops", 1, 1, 100);
            parsed.doubleValue("--seconds", 1, 0.5, 10);
            parsed.choice("--mode", "copa", List.of("copa", "coa", "copy"));
        });
    }

    @Test
    void readsValuesInBothFormsAndFlags() throws UsageException
    {
        final OptionSpec.Parsed parsed = spec().parse("ufork test",
            List.of("--ops", "1_000", "--seconds=2.5", "--no-linux", "--mode", "COA", "--secret", "7"));
        assertEquals(1000, parsed.longValue("--ops", 1, 1, 10_000));
        assertEquals(2.5, parsed.doubleValue("--seconds", 1, 0, 10));
        assertEquals("coa", parsed.choice("--mode", "copa", List.of("copa", "coa", "copy")));
        assertEquals(7, parsed.longValue("--secret", 0, 0, 10));
        assertTrue(parsed.has("--no-linux"));
        assertFalse(parsed.helpRequested());
    }

    @Test
    void fallsBackToDefaultsForAbsentOptions() throws UsageException
    {
        final OptionSpec.Parsed parsed = spec().parse("ufork test", List.of());
        assertEquals(42, parsed.longValue("--ops", 42, 1, 100));
        assertEquals(1.5, parsed.doubleValue("--seconds", 1.5, 0, 10));
        assertEquals("copa", parsed.choice("--mode", "copa", List.of("copa")));
        assertFalse(parsed.has("--no-linux"));
    }

    @Test
    void helpIsAcceptedAnywhere() throws UsageException
    {
        assertTrue(spec().parse("ufork test", List.of("--ops", "3", "--help")).helpRequested());
        assertTrue(spec().parse("ufork test", List.of("-h")).helpRequested());
    }

    @Test
    void everyBadArgumentGetsAMessageNamingIt()
    {
        assertEquals("unknown option '--bogus'", bad("--bogus").getMessage());
        assertEquals("unexpected argument 'stray'", bad("stray").getMessage());
        assertEquals("--ops needs a value (N)", bad("--ops").getMessage());
        assertEquals("--ops given twice", bad("--ops", "2", "--ops=3").getMessage());
        assertEquals("--no-linux takes no value", bad("--no-linux=yes").getMessage());
        assertEquals("--ops needs a whole number, got 'ten'", bad("--ops", "ten").getMessage());
        assertEquals("--ops must be between 1 and 100, got 0", bad("--ops", "0").getMessage());
        assertEquals("--seconds needs a number, got 'x'", bad("--seconds", "x").getMessage());
        assertEquals("--seconds must be between 0.5 and 10, got NaN", bad("--seconds", "NaN").getMessage());
        assertEquals("--seconds must be between 0.5 and 10, got 0.1", bad("--seconds", "0.1").getMessage());
        assertEquals("--mode must be one of copa, coa, copy, got 'fast'", bad("--mode", "fast").getMessage());
        assertEquals("ufork test", bad("--bogus").command());
    }

    @Test
    void usageListsTheVisibleOptionsOnly()
    {
        final String usage = spec().usage();
        assertTrue(usage.startsWith("usage: ufork test [options]\n"), usage);
        assertTrue(usage.contains("--ops N"), usage);
        assertTrue(usage.contains("--no-linux"), usage);
        assertTrue(usage.contains("-h, --help"), usage);
        assertFalse(usage.contains("--secret"), usage);
    }

    @Test
    void refusesToDeclareAnOptionTwice()
    {
        assertThrows(IllegalArgumentException.class, () -> spec().flag("--ops", "again"));
        assertThrows(IllegalArgumentException.class, () -> spec().flag("-x", "not long"));
    }
}
