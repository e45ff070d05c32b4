import Foundation

/// The valid inputs the fuzz tests start from: small, covering every layout and field the parsers accept.
enum Corpus {
    /// The password placed in config files, URLs and variables; no message may ever show it. Distinctive, so
    /// nothing else contains it by chance; the check looks for it without its `!`, so a mutation that drops the
    /// last character does not hide a leak.
    static let secret = "Zx9-Secret!"
    static let secretMarker = "Zx9-Secret"

    // MARK: - Job files

    /// Job files; `data/messages.jsonl` and `data/queries.jsonl` exist beside them and `out/` is a folder.
    static let jobFiles: [String] = [
        """
        name: ingest-alice
        kind: ingest
        source: data/messages.jsonl
        batch_size: 500
        chunk: {max_chars: 2000}
        on_bad_record: skip
        concurrency: 4
        """,
        """
        jobs:
          - name: ingest-alice
            kind: ingest
            source: data/messages.jsonl
            batch_size: 4
            chunk:
              max_chars: 400
          - name: query-alice
            kind: query
            depends_on: [ingest-alice]
            user: alice
            queries: [sourdough starter, "trail OR summit"]
            top_k: 5
            output: out/alice.jsonl
        """,
        """
        name: inline
        kind: ingest
        messages:
          - {user: alice, session: s1, role: user, content: "I live in Lisbon", created_at: "2024-05-01T12:00:00Z"}
          - user: bob
            session: s2
            role: assistant
            content: Noted.
            created_at: 2024-05-01T12:00:01.250+02:00
        """,
        """
        jobs:
          - name: q
            kind: query
            source: data/queries.jsonl
            user: alice
            top_k: 3
            on_bad_record: fail
            output: out/q.jsonl
          - name: q2
            kind: query
            depends_on: q
            user: bob
            queries:
              - {user: bob, query: marathon training}
              - plain query
        """,
    ]

    // MARK: - JSON Lines

    /// A valid message record.
    static func messageRecord(_ random: inout SplitMix64) -> Mutations.Record {
        var record: Mutations.Record = [
            ("user", random.pick([#""alice""#, #""bob""#, #""Ünïcödé""#, #""user with spaces""#])),
            ("session", random.pick([#""s1""#, #""s2""#, #""2024-05-01""#])),
            ("role", random.pick([#""user""#, #""assistant""#, #""system""#, #""tool""#])),
            (
                "content",
                random.pick([#""I live in Lisbon""#, #""""#, #""Ünïcödé ✓ \n \"quoted\"""#, #""🍞 sourdough""#])
            ),
        ]
        if random.chance(50) {
            record.append(
                ("created_at", random.pick([#""2024-05-01T12:00:00Z""#, #""2024-05-01T14:00:02.5+02:00""#, "null"])))
        }
        if random.chance(20) { record.append(("id", "17")) }
        if random.chance(50) { record.shuffle(using: &random) }
        return record
    }

    /// A valid query record; `user` may be left out when the reader has a default user.
    static func queryRecord(_ random: inout SplitMix64, withUser: Bool) -> Mutations.Record {
        var record: Mutations.Record = [
            ("query", random.pick([#""sourdough starter""#, #""trail OR summit""#, #""ü""#]))
        ]
        if withUser { record.append(("user", random.pick([#""alice""#, #""bob""#]))) }
        if random.chance(50) { record.shuffle(using: &random) }
        return record
    }

    // MARK: - Settings

    static let configFiles: [String] = [
        """
        postgres:
          host: db.example.com
          port: 5432
          database: memory
          user: memory
          password: Zx9-Secret!
          sslmode: prefer
          application_name: memory-worker
          pool_size: 5
          max_overflow: 5
          pool_timeout: 30
          pool_recycle: 3600
          idle_timeout: 300
          connection_timeout: 10
          keepalives_idle: 60
          keepalives_interval: 10
          keepalives_count: 6
          prepared_statements: true
          leak_threshold: 60
        database:
          postgres:
            pool_timeout: 30
        store:
          database:
            postgres:
              pool_size: 2
        worker:
          concurrency: 4
          retry:
            attempts: 3
        """,
        """
        database:
          url: postgresql://memory:Zx9-Secret!@db.example.com:5432/memory?sslmode=require
        postgres:
          pool_size: 2
          max_overflow: 0
          application_name: fuzz
        """,
        """
        # dotted keys and the deepest layer
        postgres.pool_size: 3
        store.database.postgres.url: "host=db.example.com port=5432 user=memory password=Zx9-Secret! dbname=memory"
        store.database.postgres.pool_timeout: 2.5
        worker:
          parallel_jobs: 2
          store_schema: memory
        """,
        """
        postgres:
          url: 'postgres://memory:Zx9-Secret%21@[::1]:5433/memory?application_name=x'
          password: Zx9-Secret!
          leak_threshold: 0
        """,
        """
        # nothing configured here
        """,
    ]

    /// Variables a deployment sets, with good values.
    static let environment: [(name: String, value: String)] = [
        ("DATABASE_URL", "postgresql://memory:Zx9-Secret!@db.example.com:5432/memory"),
        ("DATABASE_URL", "host=db.example.com port=5432 user=memory password=Zx9-Secret! dbname=memory"),
        ("DATABASE_URL", "postgres://memory:Zx9-Secret%21@[::1]:5433/memory?sslmode=require"),
        ("POSTGRES_PASSWORD", secret),
        ("PGPASSWORD", secret),
        ("POSTGRES_HOST", "db.example.com"),
        ("POSTGRES_PORT", "5432"),
        ("POSTGRES_USER", "memory"),
        ("POSTGRES_DB", "memory"),
        ("POSTGRES_SSLMODE", "require"),
        ("POSTGRES_POOL_SIZE", "5"),
        ("POSTGRES_MAX_OVERFLOW", "5"),
        ("POSTGRES_POOL_TIMEOUT", "30"),
        ("POSTGRES_POOL_RECYCLE", "3600"),
        ("POSTGRES_IDLE_TIMEOUT", "300"),
        ("POSTGRES_LEAK_THRESHOLD", "60"),
        ("POSTGRES_CONNECTION_TIMEOUT", "10"),
        ("POSTGRES_KEEPALIVES_COUNT", "6"),
        ("POSTGRES_PREPARED_STATEMENTS", "false"),
        ("DATABASE_POSTGRES_POOL_SIZE", "3"),
        ("DATABASE_POSTGRES_URL", "postgresql://memory:Zx9-Secret!@db2.example.com/memory"),
        ("STORE_DATABASE_POSTGRES_PORT", "6432"),
        ("STORE_DATABASE_POSTGRES_PASSWORD", secret),
        ("WORKER_CONCURRENCY", "4"),
        // The password where none belongs, in values the worker accepts: masked wherever they show.
        ("POSTGRES_USER", "memory:Zx9-Secret!"),
        ("PGUSER", "memory:Zx9-Secret!"),
        ("POSTGRES_DB", "memory password=Zx9-Secret!"),
        ("POSTGRES_APPLICATION_NAME", "host=db password=Zx9-Secret!"),
        ("POSTGRES_SSLROOTCERT", "postgresql://memory:Zx9-Secret!@db.example.com/memory"),
    ]

    /// Values of the wrong type or range for most variables.
    static let badEnvironmentValues: [String] = [
        "", " ", "-1", "0", "1e400", "99999999999999999999", "tcp://10.0.0.1:5432", " 5432 ", "\t7\n", "abc",
        Mutations.hugeText, "5\u{0}", "５４３２", "0x10", "+5", "nan", "inf", "-inf", "1_000", "262144", "65536",
        "31536001", "1e-9", "-0", "3.5", "true", "yes", "[1, 2]", "{a: 1}", "postgresql://", "://@", "=",
        "password=", "host='unterminated",
        // The password where none belongs, in any variable: masked if accepted, refused masked by hosts and users.
        "postgresql://memory:Zx9-Secret!@db.example.com/memory", "memory:Zx9-Secret!@db.example.com",
        "postgresql://memory@db.example.com/memory password=Zx9-Secret!",
    ]
}
