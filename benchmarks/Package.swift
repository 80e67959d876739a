// swift-tools-version: 6.1
import PackageDescription

// A package of its own so that the main package's tests never build package-benchmark.
// Run from the repository root with `make bench`.
let package = Package(
    name: "ratel-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ratel", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RatingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RatingEngine", package: "ratel"),
            ],
            path: "Benchmarks/RatingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LedgerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Ledger", package: "ratel"),
                .product(name: "LedgerPostgres", package: "ratel"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "RatingEngine", package: "ratel"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/LedgerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ClientBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RadiusProtocol", package: "ratel"),
                .product(name: "RadiusServer", package: "ratel"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ClientBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a package-benchmark suite: the load generator that benchmarks/radius-compare.sh runs
        // against FreeRADIUS and `ratel serve` in turn.
        .executableTarget(
            name: "RadiusLoad",
            dependencies: [.product(name: "RadiusProtocol", package: "ratel"), "RadiusBenchSupport"],
            path: "Benchmarks/RadiusLoad"
        ),
        // The least a PAP answer costs in Swift with Ratel's own codec (no rating, no ledger): on raw
        // sockets, on raw sockets with an fdatasynced record per answer, and on SwiftNIO.
        // radius-compare.sh runs it next to FreeRADIUS `files`, so the report shows how much of the
        // PAP budget is left for everything Ratel adds.
        .executableTarget(
            name: "PAPFloor",
            dependencies: [.product(name: "RadiusProtocol", package: "ratel"), "CFloorDatagrams", "RadiusBenchSupport",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/PAPFloor"
        ),
        .target(name: "CFloorDatagrams", path: "Benchmarks/CFloorDatagrams"),
        .target(name: "RadiusBenchSupport", path: "Benchmarks/RadiusBenchSupport"),
    ],
    swiftLanguageModes: [.v6]
)
