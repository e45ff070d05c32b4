import CLibPQ
import Glibc

/// Statement parameters laid out as libpq's parallel arrays, all values in one buffer.
struct EncodedParameters {
    private(set) var types: [Oid] = []
    /// Each value's offset in `storage`, or nil for SQL NULL.
    private var offsets: [Int?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []
    /// Values back to back, each followed by a zero byte: text values need it, and it keeps an empty value's address
    /// inside the buffer (a null address would mean SQL NULL).
    private var storage: [UInt8] = []

    init(_ parameters: [(any PostgresEncodable)?]) throws(PostgresConnectionError) {
        types.reserveCapacity(parameters.count)
        offsets.reserveCapacity(parameters.count)
        lengths.reserveCapacity(parameters.count)
        formats.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter = parameter?.postgresParameter else {
                types.append(0)
                offsets.append(nil)
                lengths.append(0)
                formats.append(0)
                continue
            }
            types.append(parameter.typeOID)
            let start = storage.count
            offsets.append(start)
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
                formats.append(0)
            case .bytes(let bytes):
                storage.append(contentsOf: bytes)
                formats.append(1)
            }
            lengths.append(Int32(storage.count - start))
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
        try storage.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            let values = offsets.map { offset in offset.flatMap { offset in base.map { $0 + offset } } }
            return try body(Int32(types.count), types, values, lengths, formats)
        }
    }
}
