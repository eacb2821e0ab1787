package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.provenance.PngReader;

/**
 * From the ImageJ zip unpacked into a fresh ImageJ 1.x, under Xvfb: Download Model... fetches a model from a local
 * imitation of the hub (HF_ENDPOINT), and a macro then names it by its repository id.
 */
class DownloadUnderXvfbTest {

	@TempDir
	Path dir;

	@Test
	void aMacroDownloadsAModelAndGeneratesWithItByRepositoryId() throws Exception {
		assumeTrue(PlainImageJXvfbTest.onPath("xvfb-run") && PlainImageJXvfbTest.onPath("timeout"),
			"xvfb-run or timeout not found: install Xvfb (apt-get install xvfb xauth) to run this test");
		PlainImageJInstall install = PlainImageJInstall.create(Path.of("target/plain-imagej-download").toAbsolutePath());
		Path png = dir.resolve("downloaded.png");
		try (FakeHub hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "")) {
			Path macro = dir.resolve("download.ijm");
			Files.writeString(macro, "run(\"Download Model...\", \"repository=[" + FakeHub.REPO + "] subfolder=[] use\");\n"
				+ "run(\"Text to Image...\", \"prompt=[a red circle] steps=2 seed=1 device=cpu model=[" + FakeHub.REPO
				+ "]\");\n" + "run(\"Save as PNG with Parameters...\", \"path=[" + png + "]\");\n"
				+ "print(\"settings model: \" + call(\"ij.Prefs.get\", \"stable.diffusion.model\", \"?\"));\n");
			String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
			ProcessBuilder pb = new ProcessBuilder("timeout", "300", "xvfb-run", "-a", java, "-Xmx2g", "-Duser.home="
				+ dir, "-jar", install.ijJar.toString(), "-ijpath", install.root.toString(), "-batch", macro.toString())
				.redirectErrorStream(true).directory(install.root.toFile());
			pb.environment().put("HF_ENDPOINT", hub.endpoint());
			pb.environment().put("HF_HUB_CACHE", dir.resolve("hub").toString());
			pb.environment().remove("HF_HUB_OFFLINE");
			pb.environment().remove("HF_TOKEN");
			Process p = pb.start();
			String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertTrue(p.waitFor(330, TimeUnit.SECONDS) && p.exitValue() != 124, "ImageJ hung:\n" + printed);
			assertTrue(Files.exists(png), printed);
			String parameters = PngReader.readText(png).get("parameters");
			assertTrue(parameters.contains("Model: " + FakeHub.REPO), parameters);
			assertTrue(printed.contains("settings model: " + FakeHub.REPO), "Use it: Settings name the download\n"
				+ printed);
			assertTrue(Files.isDirectory(dir.resolve("hub/models--test-org--tiny-sd-shapes/snapshots/" + FakeHub.COMMIT)));
		}
	}

	@Test
	void theSettingsDropDownListsTheDownloadAndFillsTheModelField() throws Exception {
		String printed = chooseTheDownload(false);
		assertTrue(printed.contains("ENTRY " + ModelDownloads.SHIPPED), printed);
		assertDownloadListedAndChosen(printed);
	}

	@Test
	void theTextToImageDropDownListsTheDownloadAndFillsTheModelField() throws Exception {
		String printed = chooseTheDownload(true);
		assertTrue(printed.contains("ENTRY " + ModelChooser.AS_IN_SETTINGS + "\n"), "an empty field: the Settings model\n"
			+ printed);
		assertTrue(printed.contains("SELECTED " + ModelChooser.AS_IN_SETTINGS + "\n"), "the current (empty) model\n"
			+ printed);
		assertDownloadListedAndChosen(printed);
	}

	/** Runs ModelChooserUnderXvfb on the Settings or the Text to Image dialog; what it printed. */
	private String chooseTheDownload(boolean textToImage) throws Exception {
		return PlainImageJXvfbTest.runClassUnderXvfb(ModelChooserUnderXvfb.class, List.of("-Duser.home=" + dir,
			"-Dsd.textToImage=" + textToImage), Map.of("HF_HUB_CACHE", dir.resolve("hub").toString()));
	}

	private static void assertDownloadListedAndChosen(String printed) {
		assertTrue(printed.contains("ENTRY " + FakeHub.REPO + "  [other, text to image, float32, "), printed);
		assertTrue(printed.contains("ENTRY " + ModelChooser.OTHER), printed);
		assertTrue(printed.contains("FIELD " + FakeHub.REPO + "\n"), "choosing the download names it by id:\n" + printed);
	}
}
