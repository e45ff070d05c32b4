// swift-tools-version: 6.2

import PackageDescription

// Linux only, which is what is built and tested: the socket reactor is epoll and several files import Glibc. No
// `platforms:` entry, since those name Apple systems only.
let package = Package(
    name: "memory-worker",
    products: [
        .executable(name: "worker", targets: ["Worker"])
    ],
    dependencies: [
        .package(
            url: "https://github.com/apple/swift-configuration",
            from: "1.4.0",
            traits: [.defaults, "YAML"]
        ),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "CEpoll"),
        .target(name: "CivilDate"),
        .target(name: "Conversation"),
        .target(name: "Support"),
        .target(name: "BuildInfo", plugins: ["GitCommit"]),
        .plugin(name: "GitCommit", capability: .buildTool()),
        .target(name: "LogOutput", dependencies: ["Support", .product(name: "Logging", package: "swift-log")]),
        .target(name: "PoolConfiguration"),
        .target(name: "LiveProgress", dependencies: ["Batch", "LogOutput", "Support"]),
        .target(
            name: "RunMetrics",
            dependencies: [
                "Batch",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "CEpoll",
                "CivilDate",
                "Support",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ConnectionPool",
            dependencies: [
                "Postgres",
                "PoolConfiguration",
                "Support",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BatchLock",
            dependencies: [
                "ConnectionPool",
                "Postgres",
                "Support",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Settings",
            dependencies: [
                "Diagnostics",
                "YAMLReading",
                "Postgres",
                "PoolConfiguration",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "Diagnostics"),
        .target(name: "CYAMLEvents"),
        .target(
            name: "YAMLReading",
            dependencies: ["CYAMLEvents", "Diagnostics", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Jobs",
            dependencies: [
                "CivilDate", "Conversation", "Diagnostics", "YAMLReading", .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "MemoryStore",
            dependencies: ["Conversation", "Postgres"]
        ),
        .target(
            name: "SampleData", dependencies: ["CivilDate", "Conversation"], resources: [.embedInCode("topics.txt")]
        ),
        .target(
            name: "Batch",
            dependencies: [
                "BatchLock",
                "BuildInfo",
                "Postgres",
                "ConnectionPool",
                "Settings",
                "Jobs",
                "MemoryStore",
                "Support",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Queue",
            dependencies: [
                "Batch", "ConnectionPool", "Jobs", "MemoryStore", "Postgres", "Settings", "Support",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "Worker",
            dependencies: [
                "BatchLock",
                "BuildInfo",
                "LogOutput",
                "Postgres",
                "ConnectionPool",
                "PoolConfiguration",
                "Settings",
                "Jobs",
                "MemoryStore",
                "Batch",
                "Queue",
                "RunMetrics",
                "LiveProgress",
                "SampleData",
                "Diagnostics",
                "Support",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CAllocationCounter"),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Postgres", "ConnectionPool", "PoolConfiguration", "MemoryStore", "SampleData", "Support", "Batch",
                "Queue", "CAllocationCounter",
            ]
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "Support"]
        ),
        .testTarget(
            name: "SettingsTests",
            dependencies: ["Settings", "Postgres", "ConnectionPool", "PoolConfiguration", "Diagnostics", "Support"]
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: ["Jobs", "Diagnostics"]
        ),
        .testTarget(
            name: "MemoryStoreTests",
            dependencies: ["MemoryStore", "Conversation", "Postgres", "Support"]
        ),
        .testTarget(
            name: "BatchTests",
            dependencies: ["Batch", "Jobs", "MemoryStore", "ConnectionPool", "Settings", "Postgres", "Support"]
        ),
        .testTarget(
            name: "QueueTests",
            dependencies: [
                "Queue", "Batch", "Jobs", "MemoryStore", "ConnectionPool", "Settings", "Postgres", "Support",
            ]
        ),
        .testTarget(
            name: "BatchLockTests",
            dependencies: ["BatchLock", "ConnectionPool", "PoolConfiguration", "Postgres", "Support"]
        ),
        .testTarget(
            name: "SampleDataTests",
            dependencies: ["SampleData"]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Postgres", "ConnectionPool", "PoolConfiguration", "Settings", "Batch", "Jobs", "MemoryStore",
                "Support", "LiveProgress",
            ]
        ),
        .testTarget(
            name: "YAMLReadingTests",
            dependencies: ["YAMLReading", "CYAMLEvents", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "CivilDateTests", dependencies: ["CivilDate"]),
        .testTarget(name: "FuzzTests", dependencies: ["Jobs", "Settings", "Support"]),
        .testTarget(
            name: "ServerFaultTests",
            dependencies: ["Batch", "Jobs", "MemoryStore", "Settings", "Postgres", "ConnectionPool", "Support"]
        ),
        .testTarget(
            name: "ConnectionPoolTests",
            dependencies: [
                "ConnectionPool",
                "PoolConfiguration",
                "Postgres",
                "Support",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
