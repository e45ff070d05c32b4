import ArgumentParser
import Foundation
import SampleData

/// `worker generate`: deterministic chat transcripts as JSON Lines, the ingest job's source format.
///
/// Benchmarks and demos need realistic volumes without shipping data files; the same flags always give the same
/// bytes, so a file can be regenerated instead of stored.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Writes deterministic sample conversations as JSON Lines (user, session, role, content, created_at).",
        discussion: """
            Exactly --messages lines, split unevenly over --users × --sessions sessions. The same options always \
            produce the same bytes. Each user has two topics and two invented names (a pet and a project) that only \
            their messages contain, for isolation checks. With --labels, facts are planted in the users' messages and \
            --questions questions asking for them in other words are written to that file as JSON Lines \
            ({"user", "query", "relevant": [exact message texts], "category"}), for worker eval. Invalid options \
            exit with status 2.
            """
    )

    @Option(help: "Users.")
    var users = 10

    @Option(help: "Sessions per user.")
    var sessions = 10

    @Option(help: "Messages in total.")
    var messages = 1000

    @Option(help: "Seed; the same seed gives the same output.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Plant facts and write the questions asking for them here.", valueName: "file"))
    var labels: String?

    @Option(help: "Questions to write with --labels, dealt to the users in turn (at most 48 per user).")
    var questions = 1000

    func run() throws {
        do {
            if let labels {
                let set = try LabelledConversations(
                    seed: seed, users: users, sessionsPerUser: sessions, totalMessages: messages,
                    questions: questions)
                try write(set.messages)
                try set.writeLabels(to: URL(fileURLWithPath: labels))
            } else {
                try write(
                    try ConversationGenerator(
                        seed: seed, users: users, sessionsPerUser: sessions, totalMessages: messages))
            }
        } catch let error as ConversationGenerator.InvalidParameter {
            printError("worker: generate: \(error)")
            throw ExitCode.invalidInput
        } catch let error as OutputFileError {
            printError("worker: generate: \(error)")
            throw ExitCode.invalidInput
        } catch {
            printError("worker: generate: writing failed: \(error)")
            throw ExitCode.failure
        }
    }

    private func write(_ messages: some Sequence<GeneratedMessage>) throws {
        if let output {
            try messages.writeJSONLines(to: URL(fileURLWithPath: output))
        } else {
            try messages.writeJSONLines(to: FileHandle.standardOutput)
        }
    }
}
