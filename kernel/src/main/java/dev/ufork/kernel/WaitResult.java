package dev.ufork.kernel;

/**
 * What {@code waitpid} returns.
 *
 * @param pid    the reaped child, or 0 when WNOHANG found none ready.
 * @param status its wait status (see {@link WaitStatus}); 0 when {@code pid} is 0.
 */
public record WaitResult(int pid, int status)
{
}
