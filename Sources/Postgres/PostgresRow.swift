/// One row of a result, in PostgreSQL's text format until decoded.
public struct PostgresRow: Sendable {
    /// The result's column names, shared by its rows.
    public let columns: PostgresColumns
    let values: [String?]

    /// Decodes the column at `index`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws(PostgresError) -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(.decodingFailed, "no column \(index); the row has \(values.count)")
        }
        guard let text = values[index] else {
            guard let null = T.postgresNull else {
                throw PostgresError(.decodingFailed, "column \(columns.names[index]) is NULL; decode it as \(T.self)?")
            }
            return null
        }
        do {
            return try T(postgresText: text)
        } catch {
            var error = error
            error.message += " (column \(columns.names[index]))"
            throw error
        }
    }

    /// Decodes the column named `name`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws(PostgresError) -> T {
        guard let index = columns.index(of: name) else {
            throw PostgresError(.decodingFailed, "no column named \(name); the columns are \(columns.names)")
        }
        return try decode(type, at: index)
    }
}

/// The column names of a result.
public final class PostgresColumns: Sendable {
    /// Names in result order.
    public let names: [String]
    private let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name] }
}

/// The outcome of a statement: its rows (if it returns any) and how many rows it affected.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The rows.
    public let rows: [PostgresRow]
    /// Rows inserted, updated or deleted (or returned, for SELECT).
    public let affectedRows: Int

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }
}
