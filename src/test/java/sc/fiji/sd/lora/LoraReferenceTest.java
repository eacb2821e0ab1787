package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.Cursor;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.TestModels;

/**
 * Base model + LoRA at run time gives the image of the model with the same LoRA merged into its weights in torch and
 * exported ({@code tools/model/make_lora_fixture.py}): kohya and PEFT layouts, text encoder and UNet, MatMul
 * (transposed), Gemm, 1×1 and 3×3 Conv, fp16 LoRA values, and two LoRAs stacked at their weights.
 */
class LoraReferenceTest {

	static final Path FIXTURE = Path.of("src/test/resources/fixtures/lora");
	private static final double TOLERANCE = 2 / 255.0;

	@TempDir
	static Path tmp;
	private static Path base;

	@BeforeAll
	static void folders() throws IOException {
		base = tmp.resolve("base");
		TestModels.copyTree(FIXTURE.resolve("base"), base);
		TestModels.copyTree(Path.of("models", EmbeddedModel.NAME, "tokenizer"), base.resolve("tokenizer"));
	}

	/** The base folder with text_encoder/ and unet/ of a merged export. */
	static Path merged(String name) throws IOException {
		Path m = tmp.resolve(name);
		if (!Files.isDirectory(m)) {
			TestModels.copyTree(base, m);
			TestModels.copyTree(FIXTURE.resolve(name), m);
		}
		return m;
	}

	static Img<FloatType> image(Path folder, LoraSpec loras) {
		LoraSet set = new LoraSet(loras);
		try (StableDiffusionModel model = StableDiffusionModel.load(folder, RuntimeOptions.DEFAULTS.withDevice(
			sc.fiji.sd.onnx.ExecutionProviders.Device.CPU), set))
		{
			set.checkEveryLoraApplied();
			assertTrue(set.warnings().isEmpty(), set.warnings().toString());
			var request = GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(3).seed(7).build();
			return new StableDiffusionPipeline(model).generate(request, null).images().get(0).pixels();
		}
	}

	static double maxDifference(Img<FloatType> a, Img<FloatType> b) {
		Cursor<FloatType> ca = a.cursor(), cb = b.cursor();
		double max = 0;
		while (ca.hasNext()) max = Math.max(max, Math.abs(ca.next().get() - cb.next().get()));
		return max;
	}

	@Test
	void kohyaLoraEqualsTheTorchMerge() throws IOException {
		Img<FloatType> patched = image(base, spec(new LoraSpec.Entry(FIXTURE.resolve("kohya.safetensors"), 1)));
		Img<FloatType> reference = image(merged("merged-kohya"), LoraSpec.NONE);
		Img<FloatType> plain = image(base, LoraSpec.NONE);
		assertTrue(maxDifference(plain, reference) > 10 * TOLERANCE, "the LoRA must change the image for the "
			+ "comparison to mean anything");
		double d = maxDifference(patched, reference);
		assertTrue(d <= TOLERANCE, "base + kohya LoRA differs from the merged model by " + d * 255 + "/255");
	}

	@Test
	void kohyaAndPeftStackedEqualTheTorchMerge() throws IOException {
		Img<FloatType> patched = image(base, spec(new LoraSpec.Entry(FIXTURE.resolve("kohya.safetensors"), 0.6),
			new LoraSpec.Entry(FIXTURE.resolve("peft.safetensors"), -0.8)));
		Img<FloatType> reference = image(merged("merged-stacked"), LoraSpec.NONE);
		double d = maxDifference(patched, reference);
		assertTrue(d <= TOLERANCE, "base + kohya 0.6 + PEFT -0.8 differs from the merged model by " + d * 255 + "/255");
	}

	@Test
	void everyWeightKindOfTheFixtureIsPatched() {
		Lora kohya = Lora.read(FIXTURE.resolve("kohya.safetensors"));
		var graph = sc.fiji.sd.onnx.OnnxGraph.read(base.resolve("unet/model.onnx"));
		var result = LoraPatcher.patch(graph, "unet", List.of(new LoraPatcher.Weighted(kohya, 1)));
		assertEquals(kohya.modules("unet").size(), result.matched());
		var ops = graph.nodes().stream().filter(n -> n.inputs().size() > 1 && result.patched().containsKey(n.inputs().get(1)))
			.map(n -> n.opType()).distinct().sorted().toList();
		assertEquals(List.of("Conv", "Gemm", "MatMul"), ops);
		assertTrue(result.patched().values().stream().allMatch(p -> p.original().external()),
			"the fixture's UNet weights are in weights.pb: the external-data path is the one tested");
	}

	static LoraSpec spec(LoraSpec.Entry... entries) {
		return new LoraSpec(List.of(entries));
	}

	@AfterAll
	static void done() {}
}
