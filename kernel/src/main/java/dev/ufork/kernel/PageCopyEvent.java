package dev.ufork.kernel;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event for one copy-on-write page copy. Off by default: copies are frequent; enable
 * {@code dev.ufork.PageCopy} when studying them.
 */
@Name("dev.ufork.PageCopy")
@Label("Page Copy")
@Description("A page shared after a fork was copied")
@Category({"ufork", "Kernel"})
@Enabled(false)
@StackTrace(false)
final class PageCopyEvent extends Event
{
    @Label("Cause")
    String cause;

    static void record(final PageCopyCause cause)
    {
        final PageCopyEvent event = new PageCopyEvent();
        if (event.isEnabled())
        {
            event.cause = cause.name();
            event.commit();
        }
    }
}
