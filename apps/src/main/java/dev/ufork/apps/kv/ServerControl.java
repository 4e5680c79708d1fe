package dev.ufork.apps.kv;

/**
 * What commands ask of the server around the keyspace: persistence, configuration, INFO and shutdown.
 * <p>
 * Thread safety: called on the server's thread only.
 */
interface ServerControl
{
    /**
     * SAVE: writes the keyspace to {@code dump.rdb} in the foreground.
     *
     * @return null on success, else the error reply text (e.g. "ERR Background save already in progress").
     */
    String save();

    /**
     * BGSAVE: forks a child that writes the snapshot.
     *
     * @param schedule BGSAVE SCHEDULE: start it once a running save ends instead of failing.
     * @return the status reply on success ("Background saving started"), or null with {@code error} set.
     */
    String bgsave(boolean schedule, String[] error);

    /** @return the UNIX time (s) of the last successful save. */
    long lastSave();

    /**
     * SHUTDOWN.
     *
     * @param save   SAVE: save even without save points; NOSAVE: never; neither: save if save points are set.
     * @return null if the server is stopping, else the error reply text.
     */
    String shutdown(Boolean save);

    /** @return the INFO text for a section ("default", "all", "server", "persistence", ...). */
    String info(String section);

    /** @return the value of a configuration parameter, or null if unknown. */
    String configGet(String name);

    /** @return every configuration parameter name this server knows, lower-case. */
    Iterable<String> configNames();

    /**
     * @return null if set, else the error reply text.
     */
    String configSet(String name, String value);

    /** Counts one change to the keyspace (rdb_changes_since_last_save). */
    void dirty(long changes);
}
