package import TOMLKit

/// Typed access to one TOML table's keys, with errors that name the key's full path.
package struct TOMLFields<Failure: Error> {
    package let table: TOMLTable
    package let path: String
    package let allowed: Set<String>
    package let fail: (String?, String) -> Failure

    package init(table: TOMLTable, path: String, allowed: Set<String>, fail: @escaping (String?, String) -> Failure) {
        self.table = table
        self.path = path
        self.allowed = allowed
        self.fail = fail
    }

    /// Parses a whole document; a syntax error names its line and column.
    package static func document(_ text: String, fail: (String?, String) -> Failure) throws(Failure) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw fail(nil, "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw fail(nil, "not valid TOML")
        }
    }

    package func rejectUnknownKeys() throws(Failure) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            throw fail(path + key, "unknown key (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    package func string(_ key: String) throws(Failure) -> String {
        guard let value = try optionalString(key) else { throw fail(path + key, "is required") }
        return value
    }

    package func optionalString(_ key: String) throws(Failure) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw fail(path + key, "must be a string") }
        return text
    }

    package func optionalInt(_ key: String, in range: ClosedRange<Int64>) throws(Failure) -> Int64? {
        guard let value = table[key] else { return nil }
        guard let number = value.int, range.contains(Int64(number)) else {
            throw fail(path + key, "must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int64(number)
    }

    package func optionalBool(_ key: String) throws(Failure) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw fail(path + key, "must be true or false") }
        return flag
    }

    package func optionalStrings(_ key: String) throws(Failure) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw fail(path + key, "must be a list of strings") }
        var strings: [String] = []
        for element in array {
            guard let text = element.string else { throw fail(path + key, "must be a list of strings") }
            strings.append(text)
        }
        return strings
    }
}
