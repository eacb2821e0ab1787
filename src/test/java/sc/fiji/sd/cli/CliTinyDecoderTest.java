package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --decoder DIR}: the final images through a tiny decoder; a folder without one is a usage error. */
class CliTinyDecoderTest {

	@TempDir
	Path dir;

	@Test
	void theImagesAreDecodedByTheTinyDecoder() throws Exception {
		Path vae = dir.resolve("vae.png"), tiny = dir.resolve("tiny.png");
		String[] common = { "txt2img", "--prompt", "a red circle on a blue background", "--seed", "4", "--steps", "2" };
		CliRun a = CliRun.of(concat(common, "--output", vae.toString()));
		CliRun b = CliRun.of(concat(common, "--output", tiny.toString(), "--decoder", "models/tiny-sd-shapes-taesd"));
		assertEquals(0, a.exitCode(), a.err());
		assertEquals(0, b.exitCode(), b.err());
		assertFalse(java.util.Arrays.equals(Files.readAllBytes(vae), Files.readAllBytes(tiny)),
			"the same latents, another decoder");
	}

	@Test
	void aFolderWithoutATinyDecoderIsAUsageError() {
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--steps", "1", "--output", dir.resolve("x.png").toString(),
			"--decoder", dir.toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("--decoder " + dir) && r.err().contains("taesd_decoder"), r.err());
		assertFalse(Files.exists(dir.resolve("x.png")));
	}

	private static String[] concat(String[] a, String... b) {
		String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
		System.arraycopy(b, 0, all, a.length, b.length);
		return all;
	}
}
