package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.provenance.PngReader;

/** {@code download} from a local imitation of the hub, then {@code models} and {@code txt2img --model} on the result. */
class CliDownloadTest {

	@TempDir
	Path dir;

	FakeHub hub;

	@BeforeEach
	void start() throws Exception {
		hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "");
		HubEnvironment env = hub.environment(dir.resolve("hub"));
		HubOptions.environment = () -> env;
	}

	@AfterEach
	void stop() {
		HubOptions.environment = HubEnvironment::fromSystem;
		hub.close();
	}

	@Test
	void aDownloadedModelIsListedAndGeneratesByFolderAndByRepositoryId() throws Exception {
		CliRun dry = CliRun.of("download", FakeHub.REPO, "--dry-run");
		assertEquals(0, dry.exitCode(), dry.err());
		assertTrue(dry.err().contains(FakeHub.REPO + "@main: ") && dry.err().contains(" MB"), dry.err());
		assertTrue(dry.out().contains("unet/model.onnx") && !dry.out().contains("safetensors"), dry.out());
		assertTrue(hub.seenOn("cdn").isEmpty(), "a dry run fetches nothing");

		CliRun r = CliRun.of("download", FakeHub.REPO);
		assertEquals(0, r.exitCode(), r.err());
		Path folder = Path.of(r.out().trim());
		assertTrue(r.err().contains("100%") && r.err().contains("/s") && r.err().contains("left"), r.err());
		assertArrayEquals(hub.content("unet/model.onnx"), Files.readAllBytes(folder.resolve("unet/model.onnx")));

		CliRun models = CliRun.of("models");
		assertEquals(0, models.exitCode(), models.err());
		assertTrue(models.out().lines().anyMatch(l -> l.startsWith(FakeHub.REPO) && l.contains("float32")
			&& l.contains("text to image") && l.contains(folder.toString())), models.out());

		Path byFolder = dir.resolve("folder.png");
		CliRun a = CliRun.of("txt2img", "--prompt", "a red circle", "--seed", "5", "--steps", "2", "--model",
			folder.toString(), "--output", byFolder.toString());
		assertEquals(0, a.exitCode(), a.err());
		Path byId = dir.resolve("id.png");
		CliRun b = CliRun.of("txt2img", "--prompt", "a red circle", "--seed", "5", "--steps", "2", "--model",
			FakeHub.REPO, "--output", byId.toString());
		assertEquals(0, b.exitCode(), b.err());
		String parameters = PngReader.readText(byId).get("parameters");
		assertTrue(parameters.contains("Model: " + FakeHub.REPO), parameters);
		assertArrayEquals(pixels(byFolder), pixels(byId), "the same model by folder and by id");
	}

	static int[] pixels(Path png) throws java.io.IOException {
		java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
		return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
	}

	@Test
	void aTerminatedDownloadLeavesOnlyAResumablePartialFile() throws Exception {
		hub.slowMillis = 20;
		Path cache = dir.resolve("hub");
		String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
		ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", cp, Main.class.getName(), "download", FakeHub.REPO)
			.redirectErrorStream(true).redirectOutput(dir.resolve("cli.log").toFile());
		pb.environment().put("HF_ENDPOINT", hub.endpoint());
		pb.environment().put("HF_HUB_CACHE", cache.toString());
		pb.environment().remove("HF_HUB_OFFLINE");
		Process p = pb.start();
		Path blobs = cache.resolve("models--test-org--tiny-sd-shapes/blobs");
		for (int i = 0; i < 600 && partialBytes(blobs) < 50_000; i++) Thread.sleep(100);
		assertTrue(partialBytes(blobs) >= 50_000, "the download started");
		p.destroy(); // SIGTERM, as Ctrl-C: the shutdown hook cancels and waits for the partial file to be closed
		assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the download stopped");
		String printed = Files.readString(dir.resolve("cli.log"));
		assertTrue(!Files.exists(cache.resolve("models--test-org--tiny-sd-shapes/snapshots")), printed);
		assertTrue(partialBytes(blobs) > 0, "kept to resume: " + printed);
		hub.slowMillis = 0;
		CliRun resumed = CliRun.of("download", FakeHub.REPO);
		assertEquals(0, resumed.exitCode(), resumed.err());
		assertTrue(hub.seenOn("cdn").stream().anyMatch(s -> s.range() != null), "resumed with a range");
		assertArrayEquals(hub.content("unet/model.onnx"), Files.readAllBytes(Path.of(resumed.out().trim())
			.resolve("unet/model.onnx")));
	}

	private static long partialBytes(Path blobs) throws java.io.IOException {
		if (!Files.isDirectory(blobs)) return 0;
		try (var files = Files.list(blobs)) {
			return files.filter(f -> f.toString().endsWith(".incomplete")).mapToLong(f -> f.toFile().length()).sum();
		}
	}

	@Test
	void errorsAreOneMessage() {
		CliRun missing = CliRun.of("download", "test-org/no-such-model");
		assertEquals(1, missing.exitCode());
		assertTrue(missing.cleanError() && missing.err().contains("No repository test-org/no-such-model"), missing.err());
		CliRun bad = CliRun.of("download", "not-a-repo-id");
		assertEquals(2, bad.exitCode());
		assertTrue(bad.cleanError() && bad.err().contains("org/name"), bad.err());
		CliRun notDownloaded = CliRun.of("txt2img", "--prompt", "x", "--model", "test-org/other-model", "--output",
			dir.resolve("x.png").toString());
		assertEquals(1, notDownloaded.exitCode());
		assertTrue(notDownloaded.cleanError() && notDownloaded.err().contains("is not downloaded"), notDownloaded.err());
	}

	@Test
	void theHelpNamesTheNewCommands() {
		CliRun help = CliRun.of("--help");
		assertTrue(help.out().contains("models") && help.out().contains("download"), help.out());
	}

	@Test
	void theProgressLineShowsRateAndTimeLeft() {
		String line = DownloadCommand.ProgressBar.line(new DownloadListener.Progress(512L << 20, 1L << 30, 8 << 20,
			64, "unet/model.onnx"));
		assertTrue(line.contains(" 50%") && line.contains("512.0 MB / 1.0 GB") && line.contains("8.0 MB/s")
			&& line.contains("1:04 left"), line);
	}
}
