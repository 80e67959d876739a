// swift-tools-version: 6.1
import PackageDescription

/// Settings every Ratel target shares: Swift 6 strict concurrency plus the upcoming features
/// Hummingbird enables, so imports and existentials stay explicit as the code base grows.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "ratel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ratel", targets: ["ratel"]),
        .library(name: "RatingEngine", targets: ["RatingEngine"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "LedgerPostgres", targets: ["LedgerPostgres"]),
        .library(name: "RadiusProtocol", targets: ["RadiusProtocol"]),
        .library(name: "RadiusServer", targets: ["RadiusServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // Gzip-compressed rate decks are read through the system zlib (Debian zlib1g-dev).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // jemalloc as the server's malloc (Debian libjemalloc-dev); see Allocator.
        .systemLibrary(
            name: "CJemalloc",
            pkgConfig: "jemalloc",
            providers: [.apt(["libjemalloc-dev"])]
        ),
        .target(
            name: "RatingEngine",
            dependencies: [
                "CZlib",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSettings
        ),
        // Accounts, PINs, balances and reservations: the contract, its in-memory book and the stores.
        .target(
            name: "Ledger",
            dependencies: [
                "RatingEngine", "CThreadSlice",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The shared store for several Ratel nodes; kept apart so the core builds without SwiftNIO.
        .target(
            name: "LedgerPostgres",
            dependencies: [
                "Ledger",
                "RatingEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Pure parsing and encoding of RADIUS packets and dictionaries: untrusted bytes in, typed values out.
        // MD5 for RADIUS's authenticators, from the system's OpenSSL (Debian libssl-dev); see RadiusProtocol's MD5.
        .systemLibrary(
            name: "CLibcrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "RadiusProtocol",
            dependencies: ["CLibcrypto"],
            resources: [.copy("dictionaries")],
            swiftSettings: strictSettings
        ),
        // Batched UDP sends (sendmmsg), which Swift's Glibc module does not carry.
        .target(name: "CDatagram"),
        // sched_setattr, which glibc 2.36 does not wrap: short time slices for the threads replies wait on.
        .target(name: "CThreadSlice"),
        // The RADIUS listeners (SwiftNIO), NAS clients, duplicate cache and the prepaid policy.
        .target(
            name: "RadiusServer",
            dependencies: [
                "RadiusProtocol", "RatingEngine", "Ledger", "CDatagram", "CThreadSlice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ratel",
            dependencies: [
                "CJemalloc",
                "RatingEngine",
                "Ledger",
                "LedgerPostgres",
                "RadiusProtocol",
                "RadiusServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RatingEngineTests",
            dependencies: [
                "RatingEngine",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "Ledger", "LedgerPostgres", "RatingEngine",
                // To write a database of an earlier schema version, as an older Ratel left it.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // The child process the crash test kills with SIGKILL; built with the tests.
        .executableTarget(
            name: "LedgerCrashDriver",
            dependencies: ["Ledger", "LedgerPostgres", "RatingEngine"],
            path: "Tests/LedgerCrashDriver",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RadiusProtocolTests",
            dependencies: ["RadiusProtocol"],
            resources: [.copy("vectors")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RadiusServerTests",
            dependencies: ["RadiusServer"],
            swiftSettings: strictSettings
        ),
        // Starts `ratel serve` and talks to it with radclient and pyrad; needs `swift build` first.
        .testTarget(
            name: "RadiusIntegrationTests",
            dependencies: ["Ledger", "LedgerPostgres"],
            exclude: ["pyrad_checks.py", "pyrad_nas.py", "pyrad_dictionary.py", "sipp"],
            swiftSettings: strictSettings
        ),
        // Drives the built `ratel` binary the way an operator does; needs `swift build` first.
        .testTarget(
            name: "RatelCLITests",
            dependencies: ["RatingEngine"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
