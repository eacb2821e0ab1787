package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * "No pixel changed": SHA-256 digests of the exact pixels (float bits), seeds and parameter texts of a set of
 * generations, recorded from the code before a refactoring of the pipeline and checked after it. It covers every path
 * of the loop: three samplers and the model's own, batches with CFG batched and in separate calls, no CFG, long and
 * weighted prompts, image to image (and strength 0 and 1), legacy 4-channel inpainting, the 9-channel inpainting UNet,
 * LCM's timestep_cond, the fp16, int64-timestep, latent_parameters and v-prediction layouts, and the tiled VAE.
 * <p>
 * The digests hold for one kind of CPU: ONNX Runtime's CPU kernels pick SIMD code by instruction set, and so does
 * its optimiser (NCHWc blocks of 16 floats with AVX-512, of 8 with AVX2), so another CPU may round differently. Hence
 * one file per kind ({@link #file()}): {@value #FILE} was recorded on the machines of the earlier sessions, which the
 * CI matches; {@value #AVX2_FILE} on an AVX2 machine without AVX-512 (an AMD EPYC), where 32 of the 33 cases round
 * differently from them. On a new kind of machine, record them from a commit known to be right, then refactor:
 * {@code mvn -B -o test -Dtest=GoldenPixelsTest -Dsd.golden.record=true} writes this machine's file.
 */
class GoldenPixelsTest {

	static final String FILE = "src/test/resources/golden/pipeline-pixels.txt";
	static final String AVX2_FILE = "src/test/resources/golden/pipeline-pixels-avx2.txt";
	static final int SIZE = 64;

	private static final boolean RECORD = Boolean.getBoolean("sd.golden.record");
	private static final Map<String, String> RECORDED = new TreeMap<>();
	private static Map<String, String> expected;

	/** One generation: a model, a request, and how the pipeline is set up. */
	record Case(String name, String model, CfgMode cfg, VaeTiling tiling, GenerationRequest request) {
		@Override
		public String toString() {
			return name;
		}
	}

	private static GenerationRequest.Builder text(String sampler) {
		return GenerationRequest.builder().prompt("a red circle on a blue square").negativePrompt("blurry, grey")
			.size(SIZE, SIZE).steps(4).guidance(7.5).seed(11).scheduler(sampler);
	}

	private static GenerationRequest.Builder image(String model, Mode mode, double strength, String sampler) {
		ModelInfo info = TestModels.model(model).info();
		var b = GenerationRequest.builder().mode(mode).prompt("a circle").negativePrompt("noise").steps(6).guidance(6)
			.seed(21).strength(strength).scheduler(sampler).initImage(PipelineEndToEndTest.picture(info, 1));
		return mode == Mode.INPAINT ? b.mask(PipelineEndToEndTest.rightHalf(info)).maskFeather(3) : b;
	}

	private static final String LONG_PROMPT = "a (red:1.3) circle, [blue] square, " + "tiny green triangle, ".repeat(20)
		+ "((bright)) yellow background";

	static Stream<Case> cases() {
		List<Case> c = new ArrayList<>();
		VaeTiling never = VaeTiling.NEVER;
		// the embedded model as the digests were recorded: its UNet and scheduler config of then (TestModels)
		String embedded = TestModels.EMBEDDED_AS_RECORDED;
		c.add(new Case("t2i-euler-a", embedded, CfgMode.BATCHED, never, text("Euler a").build()));
		c.add(new Case("t2i-dpmpp-2m-karras", embedded, CfgMode.BATCHED, never,
			text("DPM++ 2M Karras").build()));
		c.add(new Case("t2i-ddim", embedded, CfgMode.BATCHED, never, text("DDIM").build()));
		c.add(new Case("t2i-heun", embedded, CfgMode.BATCHED, never, text("Heun").build()));
		c.add(new Case("t2i-model-sampler", "optimum", CfgMode.BATCHED, never, text(null).build()));
		c.add(new Case("t2i-batch2x2-cfg-batched", embedded, CfgMode.BATCHED, never,
			text("Euler a").batchSize(2).batchCount(2).build()));
		c.add(new Case("t2i-batch2x2-cfg-separate", embedded, CfgMode.SEPARATE, never,
			text("Euler a").batchSize(2).batchCount(2).build()));
		c.add(new Case("t2i-sde-batch2-cfg-separate", embedded, CfgMode.SEPARATE, never,
			text("DPM++ 2M SDE").batchSize(2).build()));
		c.add(new Case("t2i-no-cfg", embedded, CfgMode.BATCHED, never, text("Euler").guidance(1).build()));
		c.add(new Case("t2i-long-weighted-prompt", embedded, CfgMode.BATCHED, never,
			text("Euler").prompt(LONG_PROMPT).negativePrompt("(ugly:1.2), " + "dull, ".repeat(40)).build()));
		c.add(new Case("t2i-long-prompt-separate", embedded, CfgMode.SEPARATE, never,
			text("Euler").prompt(LONG_PROMPT).build()));
		c.add(new Case("i2i-strength-0.5", embedded, CfgMode.BATCHED, never,
			image("embedded", Mode.IMAGE_TO_IMAGE, 0.5, "DPM++ 2M").build()));
		c.add(new Case("i2i-strength-0.5-batch2-pndm", embedded, CfgMode.BATCHED, never,
			image("embedded", Mode.IMAGE_TO_IMAGE, 0.5, "PNDM").batchSize(2).build()));
		c.add(new Case("i2i-strength-1", embedded, CfgMode.BATCHED, never,
			image("embedded", Mode.IMAGE_TO_IMAGE, 1, "Euler").build()));
		c.add(new Case("i2i-strength-0", embedded, CfgMode.BATCHED, never,
			image("embedded", Mode.IMAGE_TO_IMAGE, 0, "Euler").batchSize(2).build()));
		c.add(new Case("inpaint-legacy", embedded, CfgMode.BATCHED, never,
			image("embedded", Mode.INPAINT, 0.8, "Euler a").batchSize(2).build()));
		c.add(new Case("inpaint-legacy-separate", embedded, CfgMode.SEPARATE, never,
			image("embedded", Mode.INPAINT, 0.8, "DDIM").build()));
		c.add(new Case("inpaint9-inpaint", "inpaint9", CfgMode.BATCHED, never,
			image("inpaint9", Mode.INPAINT, 1, "Euler a").batchSize(2).build()));
		c.add(new Case("inpaint9-inpaint-separate", "inpaint9", CfgMode.SEPARATE, never,
			image("inpaint9", Mode.INPAINT, 0.75, "Euler").build()));
		c.add(new Case("inpaint9-t2i", "inpaint9", CfgMode.BATCHED, never, text("Euler").build()));
		c.add(new Case("inpaint9-i2i", "inpaint9", CfgMode.BATCHED, never,
			image("inpaint9", Mode.IMAGE_TO_IMAGE, 0.5, "Euler").build()));
		c.add(new Case("lcm-t2i", "lcm", CfgMode.BATCHED, never, text(null).guidance(8).batchSize(2).build()));
		c.add(new Case("lcm-i2i", "lcm", CfgMode.BATCHED, never,
			image("lcm", Mode.IMAGE_TO_IMAGE, 0.5, null).steps(4).guidance(3).build()));
		for (String f : List.of("optimum", "int64-timestep", "fp16", "v-prediction")) {
			c.add(new Case(f + "-t2i", f, CfgMode.BATCHED, never, text("Euler a").batchSize(2).build()));
			c.add(new Case(f + "-i2i", f, CfgMode.SEPARATE, never, image(f, Mode.IMAGE_TO_IMAGE, 0.5, "Euler").build()));
		}
		c.add(new Case("vae-tiled-t2i", embedded, CfgMode.BATCHED, VaeTiling.always(4, 1), text("Euler").build()));
		c.add(new Case("vae-tiled-i2i", embedded, CfgMode.BATCHED, VaeTiling.always(4, 2),
			image("embedded", Mode.IMAGE_TO_IMAGE, 0.5, "Euler").build()));
		return c.stream();
	}

	/** The digest file of this machine's kind of CPU: {@value #AVX2_FILE} where Linux reports AVX2 without AVX-512. */
	static String file() {
		return avx2WithoutAvx512(cpuFlags()) ? AVX2_FILE : FILE;
	}

	static boolean avx2WithoutAvx512(Set<String> flags) {
		return flags.contains("avx2") && flags.stream().noneMatch(f -> f.startsWith("avx512"));
	}

	/** The CPU's feature flags from /proc/cpuinfo; none where there is no such file (not Linux). */
	static Set<String> cpuFlags() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
				if (line.startsWith("flags")) return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
			}
		}
		catch (IOException e) {
			// not Linux: the default file
		}
		return Set.of();
	}

	/** This machine's recorded digests by case name. */
	static Map<String, String> recorded() throws IOException {
		Map<String, String> digests = new LinkedHashMap<>();
		for (String line : Files.readAllLines(Path.of(file()))) {
			if (line.isBlank() || line.startsWith("#")) continue;
			String[] kv = line.trim().split("\\s+");
			digests.put(kv[0], kv[1]);
		}
		return digests;
	}

	@BeforeAll
	static void load() throws IOException {
		if (!RECORD) expected = recorded();
	}

	@AfterAll
	static void write() throws IOException {
		if (!RECORD) return;
		StringBuilder s = new StringBuilder("# GoldenPixelsTest: SHA-256 of pixels, seeds and parameters per case. Recorded with\n"
			+ "# mvn -B -o test -Dtest=GoldenPixelsTest -Dsd.golden.record=true (only from a commit known to be right).\n");
		RECORDED.forEach((k, v) -> s.append(k).append(' ').append(v).append('\n'));
		Files.createDirectories(Path.of(file()).getParent());
		Files.writeString(Path.of(file()), s.toString());
	}

	@Test
	void aMachineWithAvx2ButNoAvx512ReadsItsOwnDigests() {
		assertTrue(avx2WithoutAvx512(Set.of("fma", "avx", "avx2", "bmi2")), "AMD EPYC of the eighth session");
		assertFalse(avx2WithoutAvx512(Set.of("avx2", "avx512f", "avx512bw", "avx512vl")), "an AVX-512 machine");
		assertFalse(avx2WithoutAvx512(Set.of()), "no /proc/cpuinfo: the default file");
		assertEquals(avx2WithoutAvx512(cpuFlags()) ? AVX2_FILE : FILE, file());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void samePixelsAsRecorded(Case c) {
		StableDiffusionPipeline p = new StableDiffusionPipeline(TestModels.model(c.model()));
		p.setCfgMode(c.cfg());
		p.setVaeTiling(c.tiling());
		List<GeneratedImage> images = new ArrayList<>();
		Consumer<GeneratedImage> sink = images::add;
		GenerationResult r = p.generate(c.request(), null, sink);
		assertEquals(c.request().batchSize() * c.request().batchCount(), images.size());
		assertTrue(!r.interrupted());
		String digest = digest(images);
		if (RECORD) {
			RECORDED.put(c.name(), digest);
			return;
		}
		assertNotNull(expected.get(c.name()), "no digest recorded for " + c.name() + " in " + file());
		assertEquals(expected.get(c.name()), digest, "pixels, seeds or parameters of " + c.name() + " changed");
	}

	/** SHA-256 over each image's seed, parameter text and pixel float bits (X, then Y, then channel). */
	static String digest(List<GeneratedImage> images) {
		try {
			MessageDigest md = MessageDigest.getInstance("SHA-256");
			for (GeneratedImage g : images) {
				md.update(ByteBuffer.allocate(8).putLong(g.seed()).array());
				md.update(g.parameters().getBytes(StandardCharsets.UTF_8));
				Img<FloatType> px = g.pixels();
				ByteBuffer b = ByteBuffer.allocate(4 * (int) px.size());
				for (FloatType t : Views.flatIterable(px)) b.putInt(Float.floatToIntBits(t.get()));
				md.update(b.array());
			}
			return HexFormat.of().formatHex(md.digest());
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
