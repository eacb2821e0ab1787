package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.TestModels;
import sc.fiji.sd.provenance.PngReader;

/** --lora, --lora-dir and {@code <lora:name:weight>} on the LoRA reference fixture; sessions cached by LoRA set. */
class CliLoraTest {

	static final Path FIXTURE = Path.of("src/test/resources/fixtures/lora");

	@TempDir
	static Path dir;
	static Path model;

	@BeforeAll
	static void model() throws Exception {
		model = dir.resolve("model");
		TestModels.copyTree(FIXTURE.resolve("base"), model);
		TestModels.copyTree(Path.of("models", EmbeddedModel.NAME, "tokenizer"), model.resolve("tokenizer"));
	}

	@AfterAll
	static void release() {
		CliRun.MODELS.release();
	}

	private static CliRun txt2img(Path out, String prompt, String... more) {
		List<String> args = new java.util.ArrayList<>(List.of("txt2img", "--model", model.toString(), "--device", "cpu",
			"--prompt", prompt, "--steps", "2", "--seed", "3", "--output", out.toString()));
		args.addAll(List.of(more));
		return CliRun.of(args.toArray(String[]::new));
	}

	@Test
	void aLoraTagInThePromptIsAppliedAndRecorded() throws Exception {
		Path tagged = dir.resolve("tagged.png"), option = dir.resolve("option.png"), plain = dir.resolve("plain.png");
		CliRun r = txt2img(tagged, "a red circle <lora:kohya:0.7>", "--lora-dir", FIXTURE.toString());
		assertEquals(0, r.exitCode(), r.err());
		String parameters = PngReader.readText(tagged).get("parameters");
		assertTrue(parameters.startsWith("a red circle <lora:kohya:0.7>\n"), parameters);
		assertTrue(parameters.matches("(?s).*, Lora hashes: \"kohya: [0-9a-f]{12}\".*"), parameters);
		// the tag is no text: the same as --lora with the tag left out of the prompt
		assertEquals(0, txt2img(option, "a red circle", "--lora", FIXTURE.resolve("kohya.safetensors") + ":0.7")
			.exitCode());
		assertEquals(0, txt2img(plain, "a red circle").exitCode());
		byte[] a = pixels(tagged), b = pixels(option), c = pixels(plain);
		assertTrue(java.util.Arrays.equals(a, b), "<lora:kohya:0.7> and --lora kohya:0.7 differ");
		assertTrue(!java.util.Arrays.equals(a, c), "the LoRA changed nothing");
		assertTrue(!PngReader.readText(plain).get("parameters").contains("Lora hashes"));
	}

	private static byte[] pixels(Path png) throws Exception {
		var img = javax.imageio.ImageIO.read(png.toFile());
		return ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
	}

	@Test
	void anUnknownLoraNameListsTheFolder() {
		CliRun r = txt2img(dir.resolve("x.png"), "a red circle <lora:purple:1>", "--lora-dir", FIXTURE.toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("No LoRA named 'purple'") && r.err().contains("kohya, peft"),
			r.err());
	}

	@Test
	void aMissingLoraFileIsAUsageError() {
		CliRun r = txt2img(dir.resolve("x.png"), "a red circle", "--lora", dir.resolve("none.safetensors") + ":0.5");
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("does not exist"), r.err());
	}

	@Test
	void aLoraOfAnotherModelIsARuntimeErrorNamingIt() throws Exception {
		Path embedded = EmbeddedModel.path();
		CliRun r = CliRun.of("txt2img", "--model", embedded.toString(), "--device", "cpu", "--prompt", "x", "--steps",
			"1", "--output", dir.resolve("e.png").toString(), "--lora", FIXTURE.resolve("kohya.safetensors").toString());
		assertEquals(1, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("kohya"), r.err());
	}

	@Test
	void sessionsAreCachedByLoraSetAndWeight() {
		try (ModelProvider cache = new ModelProvider()) {
			RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(sc.fiji.sd.onnx.ExecutionProviders.Device.CPU);
			LoraSpec a = new LoraSpec(List.of(new LoraSpec.Entry(FIXTURE.resolve("kohya.safetensors"), 0.5)));
			var first = cache.get(model, cpu, a);
			assertSame(first, cache.get(model, cpu,
				new LoraSpec(List.of(new LoraSpec.Entry(FIXTURE.resolve("kohya.safetensors"), 0.5)))));
			assertNotSame(first, cache.get(model, cpu,
				new LoraSpec(List.of(new LoraSpec.Entry(FIXTURE.resolve("kohya.safetensors"), 0.6)))));
			assertTrue(Files.isRegularFile(model.resolve("unet/model.onnx")));
		}
	}
}
