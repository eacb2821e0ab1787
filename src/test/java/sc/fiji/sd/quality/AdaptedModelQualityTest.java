package sc.fiji.sd.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.lora.EmbeddingSpec;
import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.quality.HeldoutSet.Combo;

/**
 * Do the shipped LoRA ({@code models/loras/ring.safetensors}) and textual-inversion embedding
 * ({@code models/embeddings/cherry.safetensors}) teach the embedded model what its data set lacks? Issue 13's bar,
 * measured through the Java pipeline with {@link ShapeCheck} on prompts never drawn in training: the LoRA's shape
 * "ring" (a disc with a hole) in ≥ 80 % of the images at weight 1 and ≤ 10 % at weight 0, the original held-out set's
 * all-three-right rate kept at ≥ 90 % of the base model's; the embedding's word "cherry" (a red circle) drawn in
 * ≥ 80 % of the images with the embedding and ≤ 10 % without. The rates are printed; the model card
 * ({@code models/loras/README.md}) reports them. Training: {@code tools/model/train_lora.py}, {@code train_ti.py}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdaptedModelQualityTest {

	static final int STEPS = 20;
	static final int SEEDS = 4;
	static final double GUIDANCE = 5;
	static final Path LORA = Path.of("models", "loras", "ring.safetensors");
	static final Path EMBEDDINGS = Path.of("models", "embeddings");
	/**
	 * The base model's all-three-right rate on the original held-out set, same prompts, seeds, steps and guidance
	 * (EmbeddedModelQualityTest, models/tiny-sd-shapes/README.md); not re-measured here to keep the suite short.
	 */
	static final double BASE_ALL_THREE = 1.0;
	/** A ring's hole is 1.7–6 % of a 64² image at the data set's sizes; the data set's shapes have none. */
	static final double RING_HOLE = 0.01;

	/** tools/model/adapt_common.py new_heldout(): 9 of the 30 colour pairs, never drawn as a ring in training. */
	static final List<Combo> RING_HELDOUT = List.of(Combo.of("red", "ring", "white"), Combo.of("green", "ring", "black"),
		Combo.of("blue", "ring", "yellow"), Combo.of("yellow", "ring", "blue"), Combo.of("white", "ring", "green"),
		Combo.of("black", "ring", "red"), Combo.of("red", "ring", "green"), Combo.of("white", "ring", "blue"),
		Combo.of("black", "ring", "yellow"));

	/** tools/model/train_ti.py CHERRY_HELDOUT_BG: backgrounds the word was never trained on. */
	static final List<Combo> CHERRY_HELDOUT = List.of(new Combo("red", "circle", "blue", "a cherry on a blue background"),
		new Combo("red", "circle", "black", "a cherry on a black background"));
	static final int CHERRY_SEEDS = 12;

	private Map<String, int[]> colors;
	private List<Combo> oldHeldout;
	private ShapeCheck check;

	@BeforeAll
	void load() throws IOException {
		HeldoutSet set = HeldoutSet.read(EmbeddedModel.path());
		colors = set.colors();
		oldHeldout = set.combos();
		check = new ShapeCheck(colors);
	}

	/** Counts over the images: the prompt's object drawn (colours, shape, ring or not), a ring seen at all. */
	record Counts(int images, int asPrompted, int rings) {
		double asPromptedRate() { return asPrompted / (double) images; }
		double ringRate() { return rings / (double) images; }

		@Override
		public String toString() {
			return String.format(Locale.ROOT, "%d images: drawn as prompted %.3f, ring seen %.3f", images,
				asPromptedRate(), ringRate());
		}
	}

	/** Generates every combination's prompt at {@code seeds} seeds with {@code overrides} (closed afterwards). */
	private Counts measure(InitializerOverrides overrides, List<Combo> combos, int seeds) {
		int n = 0, prompted = 0, rings = 0;
		try (overrides; StableDiffusionModel model = StableDiffusionModel.load(EmbeddedModel.path(),
			RuntimeOptions.DEFAULTS.withDevice(Device.CPU), overrides))
		{
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			for (Combo combo : combos) {
				GenerationRequest request = GenerationRequest.builder().prompt(combo.prompt()).steps(STEPS)
					.guidance(GUIDANCE).seed(1000).batchSize(seeds).build();
				for (GeneratedImage image : pipeline.generate(request, null).images()) {
					ShapeCheck.Seen seen = check.classify(image.pixels());
					n++;
					rings += ring(seen) ? 1 : 0;
					prompted += drawnAsPrompted(combo, seen) ? 1 : 0;
				}
			}
			if (overrides instanceof LoraSet set) {
				set.checkEveryLoraApplied();
				assertTrue(set.warnings().isEmpty(), "every module of the LoRA matches a weight: " + set.warnings());
			}
		}
		return new Counts(n, prompted, rings);
	}

	static boolean ring(ShapeCheck.Seen seen) {
		return seen.color() != null && seen.hole() >= RING_HOLE;
	}

	/** Colours right, and a ring where asked for one, else the shape right and no hole. */
	static boolean drawnAsPrompted(Combo combo, ShapeCheck.Seen seen) {
		boolean colours = combo.color().equals(seen.color()) && combo.background().equals(seen.background());
		boolean shape = combo.shape().equals("ring") ? ring(seen) : combo.shape().equals(seen.shape()) && !ring(seen);
		return colours && shape;
	}

	private static LoraSet lora(double weight) {
		return new LoraSet(new LoraSpec(List.of(new LoraSpec.Entry(LORA.toAbsolutePath(), weight))));
	}

	private static Counts report(String what, Counts c) {
		System.out.println("[quality] " + what + ", guidance 5, " + STEPS + " steps: " + c);
		return c;
	}

	@Test
	void theRingCheckTellsRingsFromTheDataSetsShapes() {
		// the check must be right before it can judge the model: drawn rings have a hole, the other shapes none
		Random rng = new Random(12);
		List<String> names = new ArrayList<>(colors.keySet());
		int total = 0, right = 0;
		for (String shape : List.of("ring", "circle", "square", "triangle")) {
			for (String color : names) {
				for (String background : names) {
					if (color.equals(background)) continue;
					double[] layout = ShapeImages.randomLayout(rng, 64);
					ShapeCheck.Seen seen = check.classify(ShapeImages.render(colors.get(color), shape, colors.get(background),
						layout[0], layout[1], layout[2], 64));
					total++;
					if (drawnAsPrompted(Combo.of(color, shape, background), seen)) right++;
				}
			}
		}
		assertTrue(right >= 0.97 * total, "the check recognised only " + right + " of " + total + " drawn images");
	}

	@Test
	void theLoraDrawsRingsAtWeightOneAndNotAtWeightZero() {
		Counts on = report("ring LoRA at 1, ring held-out", measure(lora(1), RING_HELDOUT, SEEDS));
		Counts off = report("ring LoRA at 0, ring held-out", measure(lora(0), RING_HELDOUT, SEEDS));
		assertEquals(RING_HELDOUT.size() * SEEDS, on.images());
		assertTrue(on.asPromptedRate() >= 0.80, "with the LoRA at 1: " + on);
		assertTrue(off.ringRate() <= 0.10, "with the LoRA at 0: " + off);
	}

	@Test
	void theLoraKeepsTheOriginalConcepts() {
		Counts on = report("ring LoRA at 1, original held-out", measure(lora(1), oldHeldout, SEEDS));
		assertEquals(oldHeldout.size() * SEEDS, on.images());
		assertTrue(on.asPromptedRate() >= 0.9 * BASE_ALL_THREE, "LoRA " + on + " vs base all three " + BASE_ALL_THREE);
	}

	@Test
	void theEmbeddingsWordDrawsACherryAndNothingLikeItWithout() {
		Counts on = report("embedding cherry, held-out backgrounds", measure(
			new EmbeddingSet(EmbeddingSpec.ofFolder(EMBEDDINGS)), CHERRY_HELDOUT, CHERRY_SEEDS));
		Counts off = report("no embedding, cherry as plain words, held-out backgrounds", measure(
			InitializerOverrides.NONE, CHERRY_HELDOUT, CHERRY_SEEDS));
		assertEquals(CHERRY_HELDOUT.size() * CHERRY_SEEDS, on.images());
		assertTrue(on.asPromptedRate() >= 0.80, "with the embedding: " + on);
		assertTrue(off.asPromptedRate() <= 0.10, "without the embedding: " + off);
	}
}
