package io.tidemark.shared.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Damage as bit rot or a stray write leaves it, for tests of what survives it. */
public final class Damage {

    private Damage() {
    }

    /** Flips bits of the byte at {@code position} in {@code file}, in place. */
    public static void flipByte(Path file, long position) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.flip(), position);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The 4-byte big-endian integer at {@code position} in {@code file}. */
    public static int readInt(Path file, long position) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            ch.read(b, position);
            return b.flip().getInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
