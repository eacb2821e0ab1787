package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import sc.fiji.sd.model.EmbeddedModel;

/** Broken model folders: exit 1 with a message naming the problem, no stack trace, no output file, no crash. */
class CliModelFolderTest {

	@TempDir
	Path dir;

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', value = {
		"empty folder               | is not a Stable Diffusion ONNX export",
		"unet truncated             | unet",
		"unet random bytes          | unet",
		"text encoder truncated     | text_encoder",
		"vae decoder in unet's place| unet",
		"unet config not JSON       | config.json",
		"symlink loop as unet       | unet",
		"unet is a folder           | unet",
		"model folder a symlink loop| does not exist",
		"model folder a file        | is a file, not a model folder",
	})
	void aBrokenModelIsAMessage(String fault, String named) throws Exception {
		Path model = dir.resolve("model");
		if (fault.equals("empty folder")) Files.createDirectories(model);
		else if (fault.equals("model folder a symlink loop")) {
			Files.createSymbolicLink(model, dir.resolve("other"));
			Files.createSymbolicLink(dir.resolve("other"), model);
		}
		else if (fault.equals("model folder a file")) Files.writeString(model, "a file");
		else copy(EmbeddedModel.path(), model);
		Path unet = model.resolve("unet/model.onnx");
		if (Files.isDirectory(model)) switch (fault) {
			case "unet truncated" -> truncate(unet);
			case "text encoder truncated" -> truncate(model.resolve("text_encoder/model.onnx"));
			case "unet random bytes" -> {
				byte[] bytes = new byte[(int) Files.size(unet)];
				new Random(1).nextBytes(bytes);
				Files.write(unet, bytes);
			}
			case "vae decoder in unet's place" -> Files.copy(model.resolve("vae_decoder/model.onnx"), unet,
				StandardCopyOption.REPLACE_EXISTING);
			case "unet config not JSON" -> Files.writeString(model.resolve("unet/config.json"), "{ not json");
			case "symlink loop as unet" -> {
				Files.delete(unet);
				Files.createSymbolicLink(unet, unet.resolveSibling("loop.onnx"));
				Files.createSymbolicLink(unet.resolveSibling("loop.onnx"), unet);
			}
			case "unet is a folder" -> {
				Files.delete(unet);
				Files.createDirectory(unet);
			}
			default -> {}
		}
		Path out = dir.resolve("out.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--steps", "1", "--model", model.toString(), "--output",
			out.toString());
		assertEquals(Main.EXIT_ERROR, r.exitCode(), r.err());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains(named), r.err());
		assertFalse(Files.exists(out));
	}

	private static void truncate(Path file) throws IOException {
		byte[] bytes = Files.readAllBytes(file);
		Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
	}

	static void copy(Path from, Path to) throws IOException {
		try (Stream<Path> all = Files.walk(from)) {
			for (Path p : (Iterable<Path>) all::iterator) {
				Path target = to.resolve(from.relativize(p).toString());
				if (Files.isDirectory(p)) Files.createDirectories(target);
				else Files.copy(p, target);
			}
		}
	}
}
