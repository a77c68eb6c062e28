package io.tidemark.shared.store;

import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate against a client that does not play by the rules: real drivers also check the
 * server's signature, so only a rogue client shows that the server itself checks the proof and
 * keeps a connection closed after a failed or skipped exchange.
 */
class StoreAuthenticationTest {

    private final StoreAuthentication gate = new StoreAuthentication("the-real-secret-0123456789abcdefghijkl".toCharArray());
    private final EmbeddedChannel channel = new EmbeddedChannel();

    @Test
    void aWrongProofFailsAndLeavesTheConnectionClosed() {
        Document first = gate.answer(channel, "admin", "saslStart", sasl("saslStart", "n,,n=tidemark,r=rogue-client-nonce-0001"));
        assertEquals(1.0, first.get("ok"));
        String serverFirst = new String(((BinData) first.get("payload")).getData(), StandardCharsets.UTF_8);
        assertTrue(serverFirst.startsWith("r=rogue-client-nonce-0001") && serverFirst.contains(",i=15000"), serverFirst);
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));

        byte[] guessedProof = new byte[32];
        Document last = gate.answer(channel, "admin", "saslContinue",
                sasl("saslContinue", "c=biws,r=" + nonce + ",p=" + Base64.getEncoder().encodeToString(guessedProof)));
        assertEquals(18, last.get("code"), last.toString());
        assertEquals(13, gate.answer(channel, "tidemark", "find", new Document("find", "apiKeys")).get("code"));
        // nor can the failed exchange be continued with another guess
        assertEquals(18, gate.answer(channel, "admin", "saslContinue",
                sasl("saslContinue", "c=biws,r=" + nonce + ",p=" + Base64.getEncoder().encodeToString(new byte[32]))).get("code"));
    }

    @Test
    void onlyTheHandshakeAndTheConversationRunBeforeAuthentication() {
        assertNull(gate.answer(channel, "admin", "hello", new Document("hello", 1)));
        assertNull(gate.answer(channel, "admin", "isMaster", new Document("isMaster", 1)));
        for (String command : new String[] {"insert", "find", "listDatabases", "listCollections", "dropDatabase", "serverStatus"}) {
            Document reply = gate.answer(channel, "tidemark", command, new Document(command, 1));
            assertEquals(13, reply.get("code"), command);
            assertEquals(0.0, reply.get("ok"), command);
        }
        assertEquals(18, gate.answer(channel, "admin", "saslContinue", sasl("saslContinue", "c=biws,r=x,p=AAAA")).get("code"),
                "no conversation to continue");
        assertEquals(18, gate.answer(channel, "admin", "saslStart", sasl("saslStart", "n,,n=root,r=rogue-client-nonce-0001")).get("code"),
                "another user");
        assertEquals(18, gate.answer(channel, "tidemark", "saslStart", sasl("saslStart", "n,,n=tidemark,r=rogue-client-nonce-0001")).get("code"),
                "another authentication database");
    }

    private static Document sasl(String command, String payload) {
        return new Document(command, 1).append("mechanism", ScramSha256.MECHANISM)
                .append("payload", new BinData(payload.getBytes(StandardCharsets.UTF_8)));
    }
}
