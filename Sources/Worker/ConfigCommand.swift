import ArgumentParser
import Settings

/// `worker config`: the effective settings and where each came from.
///
/// With three layers in two sources plus URLs, "which value wins?" needs an answer that does not involve reading
/// the resolver; this prints it. It also runs every check `SettingsLoader` makes, so CI can validate a deployment's
/// settings without a database.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Prints every effective setting with its source (environment variable, file:line or default).",
        discussion: """
            Priority, highest first: STORE_DATABASE_POSTGRES_*, DATABASE_POSTGRES_* (and DATABASE_URL), POSTGRES_* \
            (and POSTGRES_DB); then the config file's store.database.postgres, database.postgres (and database.url) \
            and postgres sections; then defaults. A url is the base: keys set at the same or a higher priority override \
            its parts, while host, port, database, user and password set at a lower priority are ignored. The \
            worker section's keys come from WORKER_* variables, then the config file's worker section, then \
            defaults. Passwords are always masked. Invalid settings exit with status 2.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Print one JSON object for scripts instead of the table; warnings are included in it.")
    var json = false

    @Flag(
        help: """
            Print nothing; exit 0 if a database is configured (a url or host in the environment or the config \
            file, or PGHOST, PGHOSTADDR, PGPORT, PGDATABASE or PGSERVICE) and 1 if libpq defaults would apply.
            """)
    var databaseConfigured = false

    func run() throws {
        // Warnings go to stderr after the table, or into the JSON object.
        let settings = try self.settings.resolve()
        if databaseConfigured {
            throw settings.databaseConfigured ? ExitCode.success : ExitCode.failure
        }
        if json {
            print(try settings.jsonReport())
        } else {
            print(settings.formattedReport())
            for warning in settings.warnings { printWarning(warning) }
        }
    }
}
