import Conversation
import Foundation
import Yams

/// The fields of an ingest job, and its inline messages.
enum IngestFields {
    static let fields = ["source", "messages", "batch_size", "chunk", "on_bad_record"]

    /// The spec, or nil when a field is wrong (the problems say which).
    static func parse(_ fields: MappingFields, file: String, draft: inout JobDraft, problems: inout FileProblems)
        -> IngestSpec?
    {
        let problemsBefore = problems.count
        let batchSize = fields.integer(
            "batch_size", in: 1...100_000, expected: "a whole number from 1 to 100000 (default 500)",
            problems: &problems)
        let maxChunkChars = chunk(fields, problems: &problems)
        let onBadRecord: OnBadRecord? = fields.choice("on_bad_record", problems: &problems)

        let source: Source<Message>? = JobFields.source(
            of: fields, inline: "messages", file: file, draft: &draft, problems: &problems
        ) { problems in
            messages(fields, problems: &problems)
        }

        guard let source, problems.count == problemsBefore else { return nil }
        return IngestSpec(
            source: source, batchSize: batchSize ?? 500, maxChunkChars: maxChunkChars ?? 2000,
            onBadRecord: onBadRecord ?? .fail)
    }

    /// `chunk: {max_chars: N}`.
    private static func chunk(_ fields: MappingFields, problems: inout FileProblems) -> Int? {
        guard let node = fields.value("chunk") else { return nil }
        guard case .mapping(let mapping) = node else {
            fields.problem(
                "chunk", is: "is \(MappingFields.describe(node))",
                expected: "a mapping such as chunk: {max_chars: 2000}",
                problems: &problems)
            return nil
        }
        let chunk = MappingFields(
            mapping, line: node.mark?.line ?? fields.line(of: "chunk"), owner: "'chunk' of \(fields.owner)",
            problems: &problems)
        chunk.reportUnknown(known: ["max_chars"], problems: &problems)
        return chunk.integer(
            "max_chars", in: 50...100_000, expected: "a whole number from 50 to 100000 (default 2000)",
            problems: &problems)
    }

    /// The inline messages, each at its index in the list; nil when any is wrong.
    private static func messages(_ fields: MappingFields, problems: inout FileProblems) -> [Message]? {
        let expected = "a list of messages, each with user, session, role and content"
        guard let node = fields.value("messages") else { return nil }
        guard case .sequence(let items) = node else {
            fields.problem(
                "messages", is: "is \(MappingFields.describe(node))", expected: expected, problems: &problems)
            return nil
        }
        guard !items.isEmpty else {
            fields.problem("messages", is: "is an empty list", expected: expected, problems: &problems)
            return nil
        }
        var messages: [Message] = []
        var complete = true
        for (index, item) in items.enumerated() {
            let owner = "message \(index + 1) of \(fields.owner)"
            let itemLine = item.mark?.line ?? fields.line(of: "messages")
            guard case .mapping(let mapping) = item else {
                problems.add(
                    line: itemLine,
                    "\(owner) is \(MappingFields.describe(item)); expected a mapping with user, session, role and "
                        + "content")
                complete = false
                continue
            }
            let message = MappingFields(mapping, line: itemLine, owner: owner, problems: &problems)
            guard var parsed = self.message(message, problems: &problems) else {
                complete = false
                continue
            }
            parsed.position = index
            messages.append(parsed)
        }
        return complete ? messages : nil
    }

    /// One inline message, by the rules JSON Lines records follow.
    private static func message(_ fields: MappingFields, problems: inout FileProblems) -> Message? {
        let problemsBefore = problems.count
        fields.reportUnknown(known: RecordRules.messageFields, problems: &problems)
        let id = fields.identifier("id", expected: RecordRules.idExpected, problems: &problems)
        let user = fields.identifier("user", required: true, expected: "a non-empty string", problems: &problems)
        let session = fields.identifier("session", required: true, expected: "a non-empty string", problems: &problems)
        let role: Role? = fields.choice("role", required: true, problems: &problems)
        let content = fields.string("content", required: true, expected: "a string", problems: &problems)
        if let content, let violation = RecordRules.storableText(content.value) {
            problems.add(line: content.line, "field 'content' in \(fields.owner) \(violation)")
        }
        var createdAt: Date?
        if let text = fields.string("created_at", expected: RFC3339.example, problems: &problems) {
            switch RecordRules.createdAt(text.value) {
            case .success(let date): createdAt = date
            case .failure(let violation):
                problems.add(line: text.line, "field 'created_at' in \(fields.owner) \(violation.text)")
            }
        }
        guard let user, let session, let role, let content, problems.count == problemsBefore else { return nil }
        return Message(
            user: user.value, session: session.value, position: 0, id: id?.value, role: role, content: content.value,
            createdAt: createdAt, line: fields.line)
    }
}
