import CivilDate
import Conversation
import Foundation

/// One chat message of the sample data, in the ingest job's source format.
public struct GeneratedMessage: Sendable, Equatable {
    /// Who wrote a message, spelled as the ingest job and the store spell it.
    public typealias Role = Conversation.Role

    /// `user-0001`: stable for a given user index, whatever the seed.
    public var user: String
    /// `user-0001-session-0003`: unique across users, so sessions never merge by accident.
    public var session: String
    /// 0-based position of the message in its session.
    public var position: Int
    public var role: Role
    public var content: String
    /// Seconds since 1970-01-01T00:00:00Z; whole seconds, so the text form round-trips exactly.
    public var timestamp: Int64

    public init(user: String, session: String, position: Int, role: Role, content: String, timestamp: Int64) {
        self.user = user
        self.session = session
        self.position = position
        self.role = role
        self.content = content
        self.timestamp = timestamp
    }

    public var createdAt: Date { Date(timeIntervalSince1970: TimeInterval(timestamp)) }

    /// `created_at` as RFC 3339 in UTC with a `Z`, e.g. `2024-01-05T14:07:09Z`.
    public var createdAtText: String { RFC3339.format(timestamp) }

    /// The message as one JSON object without the newline: `user`, `session`, `role`, `content`, `created_at`.
    public var jsonLine: String {
        var bytes: [UInt8] = []
        appendJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the JSON object (no newline) to `buffer`.
    ///
    /// Written by hand rather than with `JSONEncoder`: the field order and escaping are part of the byte-identical
    /// guarantee, and 200,000 messages encode several times faster this way.
    public func appendJSON(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: #"{"user":"#.utf8)
        TextEscaping.appendJSONString(user, to: &buffer)
        buffer.append(contentsOf: #","session":"#.utf8)
        TextEscaping.appendJSONString(session, to: &buffer)
        buffer.append(contentsOf: #","role":"#.utf8)
        TextEscaping.appendJSONString(role.rawValue, to: &buffer)
        buffer.append(contentsOf: #","content":"#.utf8)
        TextEscaping.appendJSONString(content, to: &buffer)
        buffer.append(contentsOf: #","created_at":"#.utf8)
        TextEscaping.appendJSONString(createdAtText, to: &buffer)
        buffer.append(UInt8(ascii: "}"))
    }
}

/// RFC 3339 timestamps in UTC, computed with integer arithmetic: no formatter object or time zone database per
/// message, and nothing that could format differently on another platform.
public enum RFC3339 {
    /// `seconds` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
