import Batch
import MemoryStore
import Testing

@testable import ConnectionPool
@testable import Postgres

/// Which failures are retried and which exit status each gets: only what may pass is transient (75); refused
/// credentials and store settings are configuration (2); the rest, a missing privilege or a cancelled statement
/// included, is permanent (1). The whole-program behaviour is in `PreparationFailureTests`.
@Suite struct FailureDiagnosisTests {
    static func refused(_ message: String) -> PostgresConnectionError {
        PostgresConnectionError(kind: .connectFailed, message: message, target: nil)
    }

    @Test(
        arguments: [
            ("connection to server at \"127.0.0.1\", port 1 failed: Connection refused", FailureKind.transient, nil),
            ("could not translate host name \"db.invalid\" to address: Name or service not known", .transient, nil),
            ("timeout expired", .transient, nil),
            ("FATAL:  sorry, too many clients already", .transient, "53300"),
            ("FATAL:  the database system is starting up", .transient, "57P03"),
            ("FATAL:  the database system is shutting down", .transient, "57P03"),
            ("fe_sendauth: no password supplied", .configuration, nil),
            ("FATAL:  password authentication failed for user \"x\"", .configuration, "28P01"),
            ("FATAL:  database \"nope\" does not exist", .configuration, "3D000"),
            ("FATAL:  role \"nope\" does not exist", .configuration, "28000"),
            ("FATAL:  no pg_hba.conf entry for host \"10.0.0.1\", user \"x\", database \"y\"", .configuration, "28000"),
            (
                "FATAL:  permission denied for database \"y\" DETAIL:  User does not have CONNECT privilege.",
                .permanent, "42501"
            ),
        ] as [(String, FailureKind, String?)])
    func refusedConnections(message: String, kind: FailureKind, sqlState: String?) {
        let diagnosis = FailureDiagnosis(Self.refused(message))
        #expect(diagnosis.kind == kind)
        #expect(diagnosis.sqlState == sqlState)
        #expect(kind == .transient || diagnosis.hint != nil, "a failure that will not pass says what to do")
        // A pool that cannot open connections is diagnosed by why it cannot.
        let pooled = PoolError(
            kind: .connectFailed, message: "pool cannot open a connection", underlying: Self.refused(message))
        #expect(FailureDiagnosis(pooled).kind == kind)
        #expect(RetryPolicy.isTransient(pooled) == (kind == .transient))
    }

    @Test(arguments: [
        ("08006", FailureKind.transient), ("57P01", .transient), ("57P03", .transient), ("40001", .transient),
        ("40P01", .transient), ("53300", .transient), ("57014", .permanent), ("42501", .permanent),
        ("42P01", .permanent), ("23505", .permanent), ("28P01", .configuration), ("3D000", .configuration),
    ])
    func serverErrors(code: String, kind: FailureKind) {
        let error = PostgresServerError(sqlState: code, severity: "ERROR", message: "something")
        #expect(FailureDiagnosis(error).kind == kind)
        #expect(FailureDiagnosis(error).sqlState == code)
    }

    @Test func exitStatusesFollowTheKinds() {
        #expect(FailureKind.transient.exitStatus.rawValue == 75)
        #expect(FailureKind.configuration.exitStatus.rawValue == 2)
        #expect(FailureKind.permanent.exitStatus.rawValue == 1)
    }

    @Test func storeSettingsAreConfigurationAndANewerStoreIsPermanent() {
        let mismatch = FailureDiagnosis(
            MemoryStoreError.textSearchConfigMismatch(schema: "memory", recorded: "english", requested: "simple"))
        #expect(mismatch.kind == .configuration)
        #expect(mismatch.hint?.contains("'english'") == true)
        #expect(FailureDiagnosis(MemoryStoreError.unknownTextSearchConfig("klingon")).kind == .configuration)
        #expect(
            FailureDiagnosis(MemoryStoreError.schemaTooNew(schema: "memory", found: 9, known: 2)).kind == .permanent)
        #expect(
            FailureDiagnosis(PoolError(kind: .timedOut, message: "no connection", underlying: nil)).kind == .permanent)
    }

    @Test func theSummaryAddsTheSQLStateAndTheHintOnce() {
        let privilege = FailureDiagnosis(
            PostgresServerError(sqlState: "42501", severity: "ERROR", message: "permission denied for database x"))
        #expect(privilege.summary.components(separatedBy: "42501").count == 2, "\(privilege.summary)")
        #expect(privilege.summary.contains("; hint: the role lacks a privilege"))
        let refused = FailureDiagnosis(Self.refused("FATAL:  password authentication failed for user \"x\""))
        #expect(refused.summary.hasSuffix("(SQLSTATE 28P01); hint: \(refused.hint ?? "")"), "\(refused.summary)")
    }
}
