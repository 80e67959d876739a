import Foundation

extension RadiusDictionary {
    /// The directory of the dictionaries Ratel ships (`dictionary` includes the standard ones;
    /// `dictionary.kamailio` is read over it for kamailio-profile clients).
    public static var shippedDirectory: String {
        Bundle.module.resourceURL?.appendingPathComponent("dictionaries").path ?? "dictionaries"
    }

    /// The standard dictionary Ratel ships.
    public static func shipped() throws(DictionaryError) -> RadiusDictionary {
        try load(path: shippedDirectory + "/dictionary")
    }
}
