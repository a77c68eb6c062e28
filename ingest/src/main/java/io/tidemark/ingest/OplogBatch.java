package io.tidemark.ingest;

import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.EntryDigest;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;
import org.bson.io.ByteBufferBsonInput;
import org.bson.ByteBufNIO;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * An oplog batch as the agent sent it: concatenated raw BSON entries, validated (each a complete
 * BSON document with a timestamp {@code ts}, an {@code op} and an {@code ns}, timestamps strictly
 * increasing after {@code prev}). Runs on a worker thread: a 4 MB batch takes milliseconds.
 */
record OplogBatch(OpTime prev, OpTime first, OpTime last, int count, byte[] raw, String lastSha256) {

    static OplogBatch parse(OpTime prev, byte[] body) {
        List<BsonFrames.Frame> frames = BsonFrames.split(body);
        if (frames.isEmpty()) {
            throw ApiException.badRequest("an oplog batch needs at least one entry");
        }
        OpTime previous = prev;
        OpTime first = null;
        ByteBuffer buf = ByteBuffer.wrap(body);
        int index = 0;
        for (BsonFrames.Frame f : frames) {
            OpTime ts = timestampOf(buf, f, index);
            if (!ts.isAfter(previous)) {
                throw ApiException.badRequest("entry " + index + " at " + ts + " does not come after " + previous
                        + ": oplog entries must be strictly increasing");
            }
            if (first == null) {
                first = ts;
            }
            previous = ts;
            index++;
        }
        BsonFrames.Frame lastFrame = frames.get(frames.size() - 1);
        return new OplogBatch(prev, first, previous, frames.size(), body,
                EntryDigest.of(body, lastFrame.offset(), lastFrame.length()));
    }

    private static OpTime timestampOf(ByteBuffer body, BsonFrames.Frame f, int index) {
        ByteBuffer slice = body.duplicate().position(f.offset()).limit(f.offset() + f.length()).slice();
        try (BsonBinaryReader reader = new BsonBinaryReader(new ByteBufferBsonInput(new ByteBufNIO(slice)))) {
            reader.readStartDocument();
            OpTime ts = null;
            boolean op = false;
            boolean ns = false;
            while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
                String name = reader.readName();
                BsonType type = reader.getCurrentBsonType();
                switch (name) {
                    case "ts" -> {
                        if (type != BsonType.TIMESTAMP) {
                            throw ApiException.badRequest("entry " + index + ": 'ts' must be a BSON timestamp");
                        }
                        ts = OpTime.of(reader.readTimestamp());
                    }
                    case "op" -> {
                        op = type == BsonType.STRING;
                        reader.skipValue();
                    }
                    case "ns" -> {
                        ns = type == BsonType.STRING;
                        reader.skipValue();
                    }
                    default -> reader.skipValue();
                }
            }
            if (ts == null || !op || !ns) {
                throw ApiException.badRequest("entry " + index + " is not an oplog entry: it needs 'ts' (timestamp), 'op' and 'ns' (strings)");
            }
            return ts;
        }
    }
}
