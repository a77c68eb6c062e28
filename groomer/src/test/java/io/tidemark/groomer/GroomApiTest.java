package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroomApiTest {

    @TempDir
    static Path dir;

    static GroomFixture fx;
    static HttpServer server;
    static HttpClient client;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(dir.resolve("data"), Map.of());
        Router router = Router.router(fx.vertx);
        router.route().handler(BodyHandler.create(false).setBodyLimit(1 << 20));
        router.route("/*").subRouter(GroomApi.router(fx.vertx, fx.stores));
        router.route().failureHandler(ErrorResponses::handle);
        server = await(fx.vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
        client = fx.vertx.createHttpClient();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private record Reply(int status, JsonObject body) {
    }

    private static Reply call(HttpMethod method, String path, JsonObject body) {
        return await(client.request(method, server.actualPort(), "127.0.0.1", path)
                .compose(req -> req.send(body == null ? Buffer.buffer() : body.toBuffer()))
                .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b.toJsonObject()))));
    }

    @Test
    void policiesAreReadChangedValidatedAndReset() {
        String job = fx.activeJob("api-" + System.nanoTime(), OpTime.ZERO, OpTime.ZERO, OpTime.ZERO);
        Reply initial = call(HttpMethod.GET, "/jobs/" + job + "/policy", null);
        assertEquals(200, initial.status());
        assertTrue(initial.body().getBoolean("default"));
        assertEquals(6, initial.body().getJsonObject("policy").getInteger("snapshotIntervalHours"));

        Reply set = call(HttpMethod.PUT, "/jobs/" + job + "/policy", new JsonObject().put("dailyDays", 14));
        assertEquals(200, set.status(), set.body().encode());
        assertEquals(14, set.body().getJsonObject("policy").getInteger("dailyDays"));
        assertEquals(13, set.body().getJsonObject("policy").getInteger("monthlyMonths"));
        assertEquals(set.body(), call(HttpMethod.GET, "/jobs/" + job + "/policy", null).body());

        Reply bad = call(HttpMethod.PUT, "/jobs/" + job + "/policy", new JsonObject().put("snapshotIntervalHours", 5)
                .put("weeklyWeeks", -1));
        assertEquals(400, bad.status());
        assertTrue(bad.body().getString("error").contains("snapshotIntervalHours")
                && bad.body().getString("error").contains("weeklyWeeks"), bad.body().encode());
        assertEquals(14, call(HttpMethod.GET, "/jobs/" + job + "/policy", null).body().getJsonObject("policy")
                .getInteger("dailyDays"), "a refused change changes nothing");

        assertTrue(call(HttpMethod.DELETE, "/jobs/" + job + "/policy", null).body().getBoolean("default"));
        assertEquals(404, call(HttpMethod.GET, "/jobs/no-such-job/policy", null).status());
        assertEquals(400, call(HttpMethod.POST, "/jobs/" + job + "/groom", new JsonObject().put("dryrun", true)).status());
        assertEquals(503, call(HttpMethod.POST, "/jobs/" + job + "/groom", new JsonObject().put("dryRun", true)).status(),
                "no groomer deployed here");
    }
}
