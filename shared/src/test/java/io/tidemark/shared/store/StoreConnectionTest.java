package io.tidemark.shared.store;

import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.WriteConcern;
import io.vertx.core.Vertx;
import io.vertx.ext.mongo.impl.config.MongoClientOptionsParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both clients' settings come from the driver's parse of the URI, never from editing its text.
 * Settings are built, not connected: no DNS (mongodb+srv) and no server needed.
 */
class StoreConnectionTest {

    private static final WriteConcern DURABLE = WriteConcern.MAJORITY.withJournal(true);
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void anSrvUriWithoutAPathGetsMajorityAndStaysAnSrvUri() {
        StoreConnection at = StoreConnection.of("mongodb+srv://cluster0.example.net", true, null);
        MongoClientSettings driver = at.driverSettings();
        assertEquals(DURABLE, driver.getWriteConcern());
        assertEquals("cluster0.example.net", driver.getClusterSettings().getSrvHost());
        assertEquals("tidemark", at.database("tidemark"));
        MongoClientSettings vertxSettings = vertxSettings(at, "tidemark");
        assertEquals(DURABLE, vertxSettings.getWriteConcern());
        assertEquals("cluster0.example.net", vertxSettings.getClusterSettings().getSrvHost());
    }

    @Test
    void wEqualsInsideAPasswordIsNotAWriteConcern() {
        StoreConnection at = StoreConnection.of("mongodb://backup:sw=1@db1:27017,db2:27017/tidemark?replicaSet=rs0", true, null);
        assertEquals(DURABLE, at.driverSettings().getWriteConcern());
        assertEquals(DURABLE, vertxSettings(at, "tidemark").getWriteConcern());
        assertEquals("sw=1", new String(at.driverSettings().getCredential().getPassword()));
        assertFalse(at.toString().contains("sw=1"), "the password is redacted: " + at);
    }

    @Test
    void aUrisOwnWriteConcernIsKept() {
        StoreConnection at = StoreConnection.of("mongodb://db1,db2/tidemark?replicaSet=rs0&w=2&journal=false", true, null);
        WriteConcern own = new WriteConcern(2).withJournal(false);
        assertEquals(own, at.driverSettings().getWriteConcern());
        assertEquals(own, vertxSettings(at, "tidemark").getWriteConcern());
    }

    @Test
    void whatTheUriLeavesOutIsMajorityWithJournal() {
        StoreConnection at = StoreConnection.of("mongodb://db1,db2/?replicaSet=rs0&journal=false&wtimeoutMS=5000", true, null);
        WriteConcern expected = WriteConcern.MAJORITY.withJournal(false).withWTimeout(5000, TimeUnit.MILLISECONDS);
        assertEquals(expected, at.driverSettings().getWriteConcern());
        assertEquals(expected, vertxSettings(at, "tidemark").getWriteConcern());
    }

    @Test
    void theEmbeddedStoreGetsTheCredentialOutsideTheUri() {
        MongoCredential credential = MongoCredential.createScramSha256Credential("tidemark", "admin", "s3cret-value".toCharArray());
        StoreConnection at = StoreConnection.of("mongodb://127.0.0.1:40000", false, credential);
        assertNull(at.writeConcern());
        assertEquals(credential, at.driverSettings().getCredential());
        assertEquals(credential, vertxSettings(at, "tidemark").getCredential());
        assertFalse(at.uri().getConnectionString().contains("s3cret"));
        assertFalse(at.toString().contains("s3cret"));
        assertTrue(at.driverSettings().getWriteConcern().isAcknowledged());
    }

    /** What the Vert.x client makes of our JSON: its own parser, the one createShared uses. */
    private static MongoClientSettings vertxSettings(StoreConnection at, String db) {
        return new MongoClientOptionsParser(vertx, at.vertxConfig(db)).settings();
    }
}
