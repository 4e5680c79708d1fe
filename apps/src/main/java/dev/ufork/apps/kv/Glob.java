package dev.ufork.apps.kv;

/**
 * Redis's glob-style pattern matching (KEYS, SCAN MATCH, CONFIG GET): {@code *} any run, {@code ?} one byte,
 * {@code [abc]}, {@code [^abc]}, {@code [a-z]} a class, {@code \x} the byte x; bytes compared exactly.
 * <p>
 * Thread safety: stateless.
 */
final class Glob
{
    private Glob()
    {
    }

    /** @return whether {@code string} matches {@code pattern}. */
    static boolean matches(final byte[] pattern, final byte[] string)
    {
        return match(pattern, 0, string, 0, false);
    }

    /** @return whether {@code string} matches {@code pattern}, ignoring ASCII case. */
    static boolean matchesIgnoreCase(final byte[] pattern, final byte[] string)
    {
        return match(pattern, 0, string, 0, true);
    }

    private static boolean match(final byte[] p, final int pFrom, final byte[] s, final int sFrom, final boolean nocase)
    {
        int pi = pFrom;
        int si = sFrom;
        while (pi < p.length && si < s.length)
        {
            switch (p[pi])
            {
                case '*' ->
                {
                    while (pi + 1 < p.length && p[pi + 1] == '*')
                    {
                        pi++;
                    }
                    if (pi + 1 == p.length)
                    {
                        return true;
                    }
                    for (int k = si; k < s.length; k++)
                    {
                        if (match(p, pi + 1, s, k, nocase))
                        {
                            return true;
                        }
                    }
                    return false;
                }
                case '?' -> si++;
                case '[' ->
                {
                    pi++;
                    final boolean not = pi < p.length && p[pi] == '^';
                    if (not)
                    {
                        pi++;
                    }
                    boolean matched = false;
                    while (true)
                    {
                        if (pi >= p.length)
                        {
                            // An unterminated class: Redis treats the end of the pattern as its end.
                            pi--;
                            break;
                        }
                        if (p[pi] == '\\' && pi + 1 < p.length)
                        {
                            pi++;
                            if (same(p[pi], s[si], nocase))
                            {
                                matched = true;
                            }
                        }
                        else if (p[pi] == ']')
                        {
                            break;
                        }
                        else if (pi + 2 < p.length && p[pi + 1] == '-')
                        {
                            int lo = p[pi] & 0xFF;
                            int hi = p[pi + 2] & 0xFF;
                            int c = s[si] & 0xFF;
                            if (lo > hi)
                            {
                                final int t = lo;
                                lo = hi;
                                hi = t;
                            }
                            if (nocase)
                            {
                                lo = Character.toLowerCase(lo);
                                hi = Character.toLowerCase(hi);
                                c = Character.toLowerCase(c);
                            }
                            pi += 2;
                            if (c >= lo && c <= hi)
                            {
                                matched = true;
                            }
                        }
                        else if (same(p[pi], s[si], nocase))
                        {
                            matched = true;
                        }
                        pi++;
                    }
                    if (not)
                    {
                        matched = !matched;
                    }
                    if (!matched)
                    {
                        return false;
                    }
                    si++;
                }
                case '\\' ->
                {
                    if (pi + 1 < p.length)
                    {
                        pi++;
                    }
                    if (!same(p[pi], s[si], nocase))
                    {
                        return false;
                    }
                    si++;
                }
                default ->
                {
                    if (!same(p[pi], s[si], nocase))
                    {
                        return false;
                    }
                    si++;
                }
            }
            pi++;
            if (si == s.length)
            {
                while (pi < p.length && p[pi] == '*')
                {
                    pi++;
                }
                break;
            }
        }
        return pi == p.length && si == s.length;
    }

    private static boolean same(final byte a, final byte b, final boolean nocase)
    {
        return a == b || (nocase && Character.toLowerCase(a & 0xFF) == Character.toLowerCase(b & 0xFF));
    }
}
