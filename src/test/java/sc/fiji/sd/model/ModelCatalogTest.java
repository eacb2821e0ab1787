package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.hub.CancelToken;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.ModelLocator;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.pipeline.TestModels;

/** Discovery: the cheap description agrees with what loading the model detects. */
class ModelCatalogTest {

	@TempDir
	Path dir;

	@Test
	void describesFamilyVariantWeightsAndSizeWithoutLoading() throws Exception {
		for (String name : List.of("embedded", "fp16", "inpaint9", "lcm")) {
			Path folder = TestModels.folder(name);
			ModelCatalog.LocalModel m = ModelCatalog.describe(folder, name, null, "test").orElseThrow();
			ModelInfo loaded = TestModels.model(name).info();
			assertEquals(loaded.unetType(), m.weights(), name);
			assertEquals(loaded.inpainting(), m.variant().equals("inpainting"), name);
			assertEquals(loaded.lcm(), m.variant().equals("LCM"), name);
			assertEquals(loaded.textWidth() == 768 ? "SD 1.x" : loaded.textWidth() == 1024 ? "SD 2.x" : "other",
				m.family(), name);
			assertTrue(m.bytes() > Files.size(folder.resolve("unet/model.onnx")), name);
		}
	}

	@Test
	void findsCachedDownloadsAndModelFoldersAndSkipsTheRest() throws Exception {
		Path cache = dir.resolve("hub");
		try (FakeHub hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "onnx/")) {
			HubEnvironment env = hub.environment(cache);
			Path downloaded = new HubClient(env).download(RepoId.parse(FakeHub.REPO, null), DownloadListener.NONE,
				new CancelToken());
			Path models = Files.createDirectories(dir.resolve("Fiji.app/models"));
			Files.createDirectories(models.resolve("not-a-model/unet"));
			List<ModelCatalog.LocalModel> found = ModelCatalog.discover(new sc.fiji.sd.hub.HubCache(cache),
				List.of(models, EmbeddedModel.path(), dir.resolve("missing")));
			assertEquals(2, found.size(), found.toString());
			ModelCatalog.LocalModel cached = found.get(0);
			assertEquals(FakeHub.REPO, cached.repo());
			assertEquals(downloaded, cached.folder());
			assertTrue(cached.bytes() > Files.size(downloaded.resolve("unet/model.onnx")), "links followed");
			assertEquals(EmbeddedModel.path(), found.get(1).folder());
			// A macro's model=[org/name] finds the export inside the snapshot.
			assertEquals(downloaded, ModelLocator.resolve(FakeHub.REPO, env).orElseThrow());
			assertEquals(FakeHub.REPO + "/onnx", ModelName.of(downloaded));
		}
	}
}
