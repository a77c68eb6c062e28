package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One pack file of a {@link PackBlockStore} and what the store keeps about it. */
final class Pack {

    private static final Logger LOG = LoggerFactory.getLogger(Pack.class);

    final int seq;
    final Path path;
    volatile FileChannel channel;
    volatile boolean removed;
    // The rest is guarded by the store's lock.
    long length;
    long liveBytes;
    /** Headers for the index file, while records are appended or until it is written. */
    List<Header> records;
    /** The durable index of a pack that takes records; used by the syncer only. */
    PackJournal journal;
    /** How many of {@code records} have been handed to the journal. */
    int journaled;
    boolean sealed;
    boolean reclaiming;
    boolean due;

    Pack(int seq, Path path) {
        this.seq = seq;
        this.path = path;
    }

    long garbage() {
        return length - liveBytes;
    }

    /**
     * The pack's channel, reopened if something (an interrupt) closed it while the pack is still
     * in use; {@link ClosedChannelException} once the pack is removed or the store closed.
     */
    FileChannel channel(boolean storeClosed) throws IOException {
        FileChannel ch = channel;
        if (ch != null && ch.isOpen()) {
            return ch;
        }
        synchronized (this) {
            if (removed || storeClosed) {
                throw new ClosedChannelException();
            }
            ch = channel;
            if (ch == null || !ch.isOpen()) {
                ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                channel = ch;
            }
            return ch;
        }
    }

    /** Closes the channel for good: the pack is removed or the store closes. */
    void close() {
        synchronized (this) {
            removed = true;
            FileChannel ch = channel;
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException e) {
                    LOG.debug("closing {}: {}", path, e.toString());
                }
            }
        }
    }

    void closeJournal() {
        PackJournal j = journal;
        journal = null;
        if (j != null) {
            try {
                j.close();
            } catch (IOException e) {
                LOG.debug("closing the journal of {}: {}", path, e.toString());
            }
        }
    }
}
