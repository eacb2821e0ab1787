package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;

import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.model.EmbeddedModel;

/** The Fiji command Download Model..., headless through CommandService, from a local imitation of the hub. */
class DownloadModelCommandTest {

	@TempDir
	Path dir;

	private Context context;
	private FakeHub hub;

	@BeforeEach
	void start() throws Exception {
		hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "");
		HubEnvironment env = hub.environment(dir.resolve("hub"));
		ModelDownloads.environment = () -> env;
		context = new Context();
	}

	@AfterEach
	void stop() {
		ModelDownloads.environment = HubEnvironment::fromSystem;
		context.dispose();
		hub.close();
	}

	@Test
	void downloadsIntoTheCacheAndSaysWhere() throws Exception {
		CommandModule m = context.service(CommandService.class).run(DownloadModelCommand.class, true, Map.of(
			"repository", FakeHub.REPO, "subfolder", "", "use", false)).get();
		assertTrue(!m.isCanceled(), String.valueOf(m.getCancelReason()));
		Path folder = Path.of((String) m.getOutput("folder"));
		assertEquals(dir.resolve("hub/models--test-org--tiny-sd-shapes/snapshots/" + FakeHub.COMMIT), folder);
		assertArrayEquals(hub.content("unet/model.onnx"), Files.readAllBytes(folder.resolve("unet/model.onnx")));
	}

	@Test
	void aMissingRepositoryCancelsWithTheHubsReason() throws Exception {
		CommandModule m = context.service(CommandService.class).run(DownloadModelCommand.class, true, Map.of(
			"repository", "test-org/missing", "subfolder", "", "use", false)).get();
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("No repository test-org/missing"), m.getCancelReason());
	}
}
