package dev.ufork.kernel;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event for each µprocess exit.
 */
@Name("dev.ufork.Exit")
@Label("Exit")
@Description("A µprocess exited or was killed")
@Category({"ufork", "Kernel"})
@StackTrace(false)
final class ExitEvent extends Event
{
    @Label("Pid")
    int pid;

    @Label("Wait Status")
    int waitStatus;
}
