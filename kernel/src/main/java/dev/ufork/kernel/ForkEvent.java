package dev.ufork.kernel;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event for each fork, timed from the start of the call to the child's start.
 */
@Name("dev.ufork.Fork")
@Label("Fork")
@Description("A µprocess forked")
@Category({"ufork", "Kernel"})
@StackTrace(false)
final class ForkEvent extends Event
{
    @Label("Parent Pid")
    int pid;

    @Label("Child Pid")
    int child;

    @Label("Copy Mode")
    String mode;

    @Label("Area Size")
    @DataAmount
    long areaBytes;

    @Label("Pages Shared")
    long pagesShared;

    @Label("Pages Copied")
    @Description("By the fork itself: every page in COPY, none in COA and COPA, whose child copies its register page "
        + "as it starts (a page copy of cause EAGER)")
    long pagesCopied;

    @Label("Capabilities Relocated")
    long capabilitiesRelocated;
}
