package dev.ufork.memory.layering;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fails the build if a module depends on one above it: apps → posix-shim → kernel → capability → memory, and
 * nothing depends on perf. Checks both the Maven dependencies of every module and the {@code dev.ufork.*} imports
 * of every source file, so a dependency that arrives transitively cannot be used upward either.
 */
class ModuleLayeringTest
{
    /** Lowest first. A module may depend only on modules before it. */
    private static final List<String> LAYERS = List.of("memory", "capability", "kernel", "posix-shim", "apps");
    private static final Pattern DEPENDENCY = Pattern.compile(
        "<groupId>dev\\.ufork</groupId>\\s*<artifactId>ufork-([a-z-]+)</artifactId>");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?dev\\.ufork\\.([a-z]+)\\.",
        Pattern.MULTILINE);

    private static Path root()
    {
        final String configured = System.getProperty("ufork.project.root");
        Path dir = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("memory").resolve("pom.xml")))
        {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "project root not found from " + configured);
        return dir;
    }

    private static List<String> modules() throws IOException
    {
        final List<String> modules = new ArrayList<>();
        try (Stream<Path> children = Files.list(root()))
        {
            children.filter(p -> Files.exists(p.resolve("pom.xml")))
                .map(p -> p.getFileName().toString())
                .sorted()
                .forEach(modules::add);
        }
        return modules;
    }

    private static int layer(final String module)
    {
        return "perf".equals(module) ? Integer.MAX_VALUE : LAYERS.indexOf(module);
    }

    /** Maps a package segment (dev.ufork.X) to its module name. */
    private static String moduleOfPackage(final String segment)
    {
        return "posixshim".equals(segment) || "posix".equals(segment) ? "posix-shim" : segment;
    }

    @Test
    void shouldKnowEveryModuleOfTheBuild() throws IOException
    {
        for (final String module : modules())
        {
            assertTrue(layer(module) >= 0, "module '" + module + "' is not in the layering " + LAYERS + " or perf");
        }
    }

    @Test
    void shouldOnlyDeclareDependenciesOnLowerModules() throws IOException
    {
        final List<String> violations = new ArrayList<>();
        for (final String module : modules())
        {
            final String pom = Files.readString(root().resolve(module).resolve("pom.xml"));
            final Matcher m = DEPENDENCY.matcher(pom);
            while (m.find())
            {
                final String target = m.group(1);
                if (target.equals("parent") || target.equals(module))
                {
                    continue;
                }
                if (layer(target) >= layer(module))
                {
                    violations.add(module + " depends on " + target);
                }
            }
        }
        assertEquals(List.of(), violations, "module dependencies must point down " + LAYERS);
    }

    @Test
    void shouldOnlyImportFromLowerOrSameModules() throws IOException
    {
        final List<String> violations = new ArrayList<>();
        for (final String module : modules())
        {
            final Path src = root().resolve(module).resolve("src");
            if (!Files.isDirectory(src))
            {
                continue;
            }
            try (Stream<Path> files = Files.walk(src))
            {
                for (final Path file : files.filter(p -> p.toString().endsWith(".java")).toList())
                {
                    final Matcher m = IMPORT.matcher(Files.readString(file));
                    while (m.find())
                    {
                        final String target = moduleOfPackage(m.group(1));
                        if (layer(target) > layer(module))
                        {
                            violations.add(root().relativize(file) + " imports dev.ufork." + m.group(1));
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), violations, "imports must point down " + LAYERS);
    }
}
