import Foundation
import Postgres
import Settings
import Testing

/// TLS against a cluster serving a certificate from a CA the test makes with openssl: `verify-full` with that CA
/// connects over TLS; another CA, or a host name the certificate does not carry, is refused with a clear error.
@Suite struct TLSTests {
    static let password = "Zx9TlsSecret"

    /// A CA, a server certificate it signed for `localhost`, and an unrelated CA, in `folder`.
    static func makeCertificates(in folder: URL) async throws {
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        for ca in ["ca", "other-ca"] {
            _ = try await ScratchCluster.run(
                openssl,
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=memory-worker \(ca)",
                    "-keyout", path("\(ca).key"), "-out", path("\(ca).crt"),
                ])
        }
        _ = try await ScratchCluster.run(
            openssl,
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", path("server.key"),
                "-out", path("server.csr"),
            ])
        try "subjectAltName=DNS:localhost\n".write(toFile: path("san.ext"), atomically: true, encoding: .utf8)
        _ = try await ScratchCluster.run(
            openssl,
            [
                "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", path("san.ext"), "-out", path("server.crt"),
            ])
    }

    @Test func verifyFullConnectsWithTheRightCAAndRefusesTheWrongOneOrHost() async throws {
        try await ScratchCluster.with("tls") { cluster in try await tls(cluster) }
    }

    private func tls(_ cluster: ScratchCluster) async throws {
        // Inside the cluster's folder, which the server's user owns, so the server may read its key.
        let folder = URL(fileURLWithPath: cluster.folder).appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try await Self.makeCertificates(in: folder)
        let owner = try FileManager.default.attributesOfItem(atPath: cluster.folder)[.ownerAccountID]
        for name in ["", "server.crt", "server.key"] {
            let path = folder.appendingPathComponent(name).path
            try FileManager.default.setAttributes(
                [.ownerAccountID: owner as Any, .posixPermissions: name.hasSuffix(".key") ? 0o600 : 0o755],
                ofItemAtPath: path)
        }
        let admin = try await cluster.admin()
        for statement in [
            "ALTER SYSTEM SET ssl = on",
            "ALTER SYSTEM SET ssl_cert_file = '\(folder.appendingPathComponent("server.crt").path)'",
            "ALTER SYSTEM SET ssl_key_file = '\(folder.appendingPathComponent("server.key").path)'",
            "ALTER ROLE postgres PASSWORD '\(Self.password)'",
        ] {
            try await admin.execute(script: statement)
        }
        try await admin.query("SELECT pg_reload_conf()")
        admin.close()

        // postgresql://postgres@127.0.0.1:PORT/memory_worker, with the password and the host under test.
        let tcp = try await cluster.tcpURL()
        let port = try #require(tcp.split(separator: ":").last?.split(separator: "/").first)
        func settings(host: String, ca: String) throws -> ConnectionConfiguration {
            try SettingsLoader.load(
                configPath: nil,
                environment: [
                    "DATABASE_URL": "postgresql://postgres:\(Self.password)@\(host):\(port)/memory_worker",
                    "POSTGRES_SSLMODE": "verify-full",
                    "POSTGRES_SSLROOTCERT": folder.appendingPathComponent(ca).path,
                ]
            ).connection
        }

        // The reload takes effect asynchronously; a few tries cover it.
        var connection: PostgresConnection?
        for _ in 0..<50 where connection == nil {
            connection = try? await PostgresConnection.connect(try settings(host: "localhost", ca: "ca.crt"))
            if connection == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let secured = try #require(connection, "verify-full with the right CA did not connect")
        let tls = try await secured.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .rows[0].decode((Bool, String).self)
        secured.close()
        #expect(tls.0, "connected, but not over TLS")
        print("verify-full connected over \(tls.1)")

        let wrongCA = await #expect(throws: PostgresConnectionError.self) {
            try await PostgresConnection.connect(try settings(host: "localhost", ca: "other-ca.crt"))
        }
        #expect(wrongCA?.message.contains("certificate verify failed") == true, "\(wrongCA?.message ?? "")")
        let wrongHost = await #expect(throws: PostgresConnectionError.self) {
            try await PostgresConnection.connect(try settings(host: "127.0.0.1", ca: "ca.crt"))
        }
        #expect(wrongHost?.message.contains("does not match host name") == true, "\(wrongHost?.message ?? "")")
        for error in [wrongCA, wrongHost] {
            #expect(error.map { !"\($0)".contains(Self.password) } ?? true)
        }
    }
}
