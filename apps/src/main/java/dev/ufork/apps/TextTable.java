package dev.ufork.apps;

import java.util.ArrayList;
import java.util.List;

/**
 * A table for people: a header, rows, columns padded to their widest cell, text left-aligned and numbers
 * right-aligned, every line indented.
 * <p>
 * Thread safety: not thread-safe. Lifetime: build, then {@link #render()}.
 */
public final class TextTable
{
    /** How a column's cells line up. */
    public enum Align
    {
        /** Text. */
        LEFT,
        /** Numbers. */
        RIGHT
    }

    private static final String GAP = "   ";

    private final String indent;
    private final List<String> headers = new ArrayList<>();
    private final List<Align> aligns = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();

    /** @param indent what every line starts with. */
    public TextTable(final String indent)
    {
        this.indent = indent;
    }

    /**
     * @param header the column's title.
     * @param align  how its cells line up.
     * @return this.
     */
    public TextTable column(final String header, final Align align)
    {
        headers.add(header);
        aligns.add(align);
        return this;
    }

    /**
     * @param cells one per column.
     * @return this.
     * @throws IllegalArgumentException if the count does not match the columns.
     */
    public TextTable row(final String... cells)
    {
        if (cells.length != headers.size())
        {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        rows.add(List.of(cells));
        return this;
    }

    /** @return the table, one line per row after the header, each ending in a newline. */
    public String render()
    {
        final int[] widths = new int[headers.size()];
        for (int c = 0; c < widths.length; c++)
        {
            widths[c] = headers.get(c).length();
            for (final List<String> row : rows)
            {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        final StringBuilder text = new StringBuilder();
        line(text, headers, widths);
        for (final List<String> row : rows)
        {
            line(text, row, widths);
        }
        return text.toString();
    }

    private void line(final StringBuilder text, final List<String> cells, final int[] widths)
    {
        final StringBuilder line = new StringBuilder(indent);
        for (int c = 0; c < widths.length; c++)
        {
            if (c > 0)
            {
                line.append(GAP);
            }
            final String cell = cells.get(c);
            final String pad = " ".repeat(widths[c] - cell.length());
            line.append(aligns.get(c) == Align.RIGHT ? pad + cell : cell + pad);
        }
        text.append(line.toString().stripTrailing()).append('\n');
    }
}
