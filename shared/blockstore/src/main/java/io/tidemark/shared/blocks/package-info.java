/**
 * The block store: content-addressed storage of zstd-compressed blocks, named by the SHA-256 of
 * their uncompressed bytes.
 *
 * <p>This package lives in its own module ({@code shared/blockstore}, artifact
 * {@code tidemark-blockstore}) but keeps the package name {@code io.tidemark.shared.blocks} it had
 * inside {@code shared}, so that the imports of every other module stay as they were and merges
 * with work on those modules stay cheap. The module depends on {@code shared} (configuration,
 * the blockstore database, directory fsync), never the other way round;
 * {@code io.tidemark.shared.snapshots.ManifestStore}, the one class of {@code shared} that
 * wrote block references, moved here with it.
 *
 * <p>Shape, after restic's: {@link io.tidemark.shared.blocks.BlockStore} is the small storage
 * interface (put if absent, exists, stat, read, list, delete of named blocks), with one class
 * group per backend:
 * <ul>
 * <li>packs on the filesystem: {@code PackBlockStore} (the facade), {@code PackWriter} (appends
 *     and group commit), {@code PackPuts} (one write per block under concurrent puts), {@code PackReader} (verified reads), {@code PackIndex} (where every
 *     block is), {@code PackReclaimer} (rewrites packs that are mostly garbage),
 *     {@code PackLock} (one process per store), {@code PackLoader} and {@code PackRecovery}
 *     (opening, and what a crash left), with {@code PackFormat}, {@code PackJournal},
 *     {@code PackScan}, {@code Pack} and {@code Quarantine} beneath them;</li>
 * <li>loose files, one per block: {@code FilesystemBlockStore};</li>
 * <li>the {@code blocks} collection of the blockstore database: {@code MongoBlockStore}.</li>
 * </ul>
 * {@code BlockCodec} (compression and verification) and {@code BlockReader} (ordered,
 * prefetching reads) serve every backend. Decorators wrap a store from outside (the server's
 * fencing store is one). There is no retry or cache decorator: the pack store answers lookups
 * from its in-memory index and retries a read that races with a reclaim itself, the MongoDB
 * driver retries its writes, and restores read each block once.
 */
package io.tidemark.shared.blocks;
