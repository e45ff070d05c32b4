import CLibPQ
import Glibc

/// Statement parameters laid out as libpq's parallel arrays, all values in one buffer.
///
/// Three allocations whatever the count (types, slots, values); the pointer arrays libpq takes are built on the
/// stack when the statement is sent, since a statement runs on every lease.
struct EncodedParameters {
    private(set) var types: [Oid] = []
    /// Where each value is in `storage`, its length and its format (0 text, 1 binary); offset -1 for SQL NULL.
    private var slots: [(offset: Int, length: Int32, format: Int32)] = []
    /// Values back to back, each followed by a zero byte: text values need it, and it keeps an empty value's address
    /// inside the buffer (a null address would mean SQL NULL).
    private var storage: [UInt8] = []

    init(_ parameters: [(any PostgresEncodable)?]) throws(PostgresConnectionError) {
        types.reserveCapacity(parameters.count)
        slots.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter = parameter?.postgresParameter else {
                types.append(0)
                slots.append((-1, 0, 0))
                continue
            }
            types.append(parameter.typeOID)
            let start = storage.count
            let format: Int32
            switch parameter.payload {
            case .text(let text):
                storage.append(contentsOf: text.utf8)
                let hasNUL = storage.withUnsafeBytes { all in
                    let appended = UnsafeRawBufferPointer(rebasing: all[start...])
                    return appended.baseAddress.map { memchr($0, 0, appended.count) != nil } ?? false
                }
                guard !hasNUL else {
                    throw PostgresConnectionError(
                        kind: .invalidParameter,
                        message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold",
                        target: nil
                    )
                }
                format = 0
            case .bytes(let bytes):
                storage.append(contentsOf: bytes)
                format = 1
            }
            slots.append((start, Int32(storage.count - start), format))
            storage.append(0)
        }
    }

    /// Calls `body` with the count and the arrays `PQsendQueryParams` and `PQsendQueryPrepared` take.
    func withPointers<Result>(
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) throws -> Result
    ) rethrows -> Result {
        let count = slots.count
        return try storage.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            return try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { values in
                try withUnsafeTemporaryAllocation(of: Int32.self, capacity: count * 2) { numbers in
                    for (index, slot) in slots.enumerated() {
                        values[index] = slot.offset < 0 ? nil : base.map { $0 + slot.offset }
                        numbers[index] = slot.length
                        numbers[count + index] = slot.format
                    }
                    let lengths = numbers.baseAddress.map { UnsafePointer($0) }
                    return try body(
                        Int32(count), types, UnsafePointer(values.baseAddress), lengths, lengths.map { $0 + count })
                }
            }
        }
    }
}
