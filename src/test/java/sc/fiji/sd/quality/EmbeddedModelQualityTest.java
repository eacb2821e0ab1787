package sc.fiji.sd.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.TestModels;

/**
 * Does the embedded model draw what the prompt says? Issue 6's quality bar, measured through the Java pipeline on
 * colour × shape × background combinations that were never drawn in training ({@code heldout.json} in the model
 * folder), with the image check of {@link ShapeCheck}. The rates are printed; the model card reports them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddedModelQualityTest {

	static final int STEPS = 20;
	static final int SEEDS = 4;
	static final double GUIDANCE = 5;

	private Map<String, int[]> colors;
	private List<HeldoutSet.Combo> heldout;
	private ShapeCheck check;
	private StableDiffusionPipeline pipeline;
	private Rates atGuidance5;

	@BeforeAll
	void load() throws IOException {
		HeldoutSet set = HeldoutSet.read(EmbeddedModel.path());
		colors = set.colors();
		heldout = set.combos();
		check = new ShapeCheck(colors);
		pipeline = TestModels.pipeline("embedded");
	}

	/** Adherence rates over the held-out set. */
	record Rates(int images, double background, double color, double shape, Map<String, Double> perShape, double allThree) {
		@Override
		public String toString() {
			return String.format(Locale.ROOT, "%d images: background %.3f, object colour %.3f, shape %.3f %s, all three %.3f",
				images, background, color, shape, perShape, allThree);
		}
	}

	private Rates measure(double guidance) {
		int n = 0, bg = 0, col = 0, sh = 0, all = 0;
		Map<String, int[]> perShape = new LinkedHashMap<>();
		for (int i = 0; i < heldout.size(); i++) {
			HeldoutSet.Combo combo = heldout.get(i);
			GenerationRequest request = GenerationRequest.builder().prompt(combo.prompt()).steps(STEPS).guidance(guidance)
				.seed(QualityGrid.seed(1000, i, 0)).batchSize(SEEDS).build();
			for (GeneratedImage image : pipeline.generate(request, null).images()) {
				ShapeCheck.Seen seen = check.classify(image.pixels());
				boolean b = combo.background().equals(seen.background()), c = combo.color().equals(seen.color()),
					s = combo.shape().equals(seen.shape());
				n++;
				bg += b ? 1 : 0;
				col += c ? 1 : 0;
				sh += s ? 1 : 0;
				all += b && c && s ? 1 : 0;
				int[] counts = perShape.computeIfAbsent(combo.shape(), k -> new int[2]);
				counts[0] += s ? 1 : 0;
				counts[1]++;
			}
		}
		Map<String, Double> shapeRates = new LinkedHashMap<>();
		perShape.forEach((k, v) -> shapeRates.put(k, v[0] / (double) v[1]));
		return new Rates(n, bg / (double) n, col / (double) n, sh / (double) n, shapeRates, all / (double) n);
	}

	private synchronized Rates atGuidance5() {
		if (atGuidance5 == null) {
			atGuidance5 = measure(GUIDANCE);
			System.out.println("[quality] held-out adherence, guidance 5, " + STEPS + " steps: " + atGuidance5);
		}
		return atGuidance5;
	}

	@Test
	void theImageCheckRecognisesDrawnShapes() {
		// The check itself must be right before it can judge the model: draw every combination at random layouts.
		Random rng = new Random(11);
		List<String> names = new ArrayList<>(colors.keySet());
		int total = 0, correct = 0;
		for (String shape : List.of("circle", "square", "triangle")) {
			for (String color : names) {
				for (String background : names) {
					if (color.equals(background)) continue;
					double[] layout = ShapeImages.randomLayout(rng, 64);
					Img<FloatType> img = ShapeImages.render(colors.get(color), shape, colors.get(background), layout[0],
						layout[1], layout[2], 64);
					ShapeCheck.Seen seen = check.classify(img);
					total++;
					if (shape.equals(seen.shape()) && color.equals(seen.color()) && background.equals(seen.background())) correct++;
				}
			}
		}
		assertTrue(correct >= 0.97 * total, "image check recognised only " + correct + " of " + total + " drawn images");
	}

	@Test
	void heldOutCombinationsAreDrawnAsPrompted() {
		Rates r = atGuidance5();
		assertEquals(heldout.size() * SEEDS, r.images());
		assertTrue(r.background() >= 0.95, "background colour " + r);
		assertTrue(r.color() >= 0.90, "object colour " + r);
		assertTrue(r.shape() >= 0.70, "shape " + r);
		r.perShape().forEach((shape, rate) -> assertTrue(rate >= 0.40, shape + " " + r));
	}

	/**
	 * Corners of the model card's sampler × steps × guidance grid (QualityGrid), all of whose cells meet issue 12's bar
	 * (≥ 90 % all three right at 20 steps, ≥ 80 % at 10) since the seventh base: high guidance with few steps (where
	 * the first model drew blobs of other colours: Euler a, DPM++ 2M Karras, LMS Karras, DDIM, UniPC), the multistep
	 * samplers at 10 steps (PLMS at guidance 7 and PNDM at 9 failed until the seventh base, which was trained through
	 * them; PNDM at guidance 3) and PLMS at 20 steps (guidance 9 failed on the fourth base), first-, second-order and SDE
	 * samplers at guidance 9, LCM at 10 steps guidance 9 (failed on the fourth base), DPM++ 2M SDE Karras at 10 steps
	 * guidance 7 (passes since the model's Karras schedules start at sigma 6, its config's sigma_max, tenth session;
	 * 71 % from SD 1.5's 14.6). Each cell has 30 images here, the first 30 of the card's 90 ({@link QualityGrid#seed}:
	 * the same seeds).
	 */
	@Test
	void gridCornersMeetTheBar() {
		record Corner(String sampler, int steps, double guidance) {}
		List<String> below = new ArrayList<>();
		for (Corner c : List.of(new Corner("Euler a", 10, 9), new Corner("DPM++ 2M Karras", 10, 7),
			new Corner("LMS Karras", 10, 9), new Corner("DDIM", 10, 9), new Corner("UniPC", 10, 9),
			new Corner("PLMS", 20, 9), new Corner("PLMS", 10, 7), new Corner("PNDM", 10, 9), new Corner("PNDM", 10, 3),
			new Corner("Heun", 20, 9),
			new Corner("DPM++ 2M SDE Karras", 20, 9), new Corner("DPM++ 2M SDE Karras", 10, 7),
			new Corner("LCM", 10, 9)))
		{
			double rate = QualityGrid.cell(pipeline, new HeldoutSet(colors, heldout), check, c.sampler(), c.steps(),
				c.guidance(), 2, 1000);
			System.out.printf(Locale.ROOT, "[quality] grid corner %s, %d steps, guidance %.0f: %.1f %%%n", c.sampler(),
				c.steps(), c.guidance(), 100 * rate);
			if (rate < (c.steps() >= 20 ? 0.9 : 0.8)) below.add(c + ": " + rate);
		}
		assertTrue(below.isEmpty(), "grid corners below the bar: " + below);
	}

	@Test
	void guidanceMatters() {
		Rates without = measure(1);
		Rates with = atGuidance5();
		System.out.println("[quality] held-out adherence, guidance 1 (no CFG), " + STEPS + " steps: " + without);
		assertTrue(without.allThree() < with.allThree(),
			"guidance 5 should follow the prompt better than guidance 1: " + with + " vs " + without);
	}

	@Test
	void seedsVaryPositionAndSize() {
		HeldoutSet.Combo combo = heldout.get(0);
		GenerationRequest request = GenerationRequest.builder().prompt(combo.prompt()).steps(STEPS).guidance(GUIDANCE)
			.seed(100).batchSize(8).build();
		List<ShapeCheck.Seen> seen = new ArrayList<>();
		for (GeneratedImage image : pipeline.generate(request, null).images()) {
			ShapeCheck.Seen s = check.classify(image.pixels());
			if (s.shape() != null) seen.add(s);
		}
		double[] x = seen.stream().mapToDouble(ShapeCheck.Seen::centreX).toArray();
		double[] y = seen.stream().mapToDouble(ShapeCheck.Seen::centreY).toArray();
		double[] size = seen.stream().mapToDouble(ShapeCheck.Seen::size).toArray();
		System.out.printf(Locale.ROOT, "[quality] 8 seeds of \"%s\": %d with an object; centre x std %.1f px, y std %.1f px, size std %.1f px (range %.0f–%.0f)%n",
			combo.prompt(), seen.size(), std(x), std(y), std(size), min(size), max(size));
		assertTrue(seen.size() >= 6, "most seeds should draw an object, got " + seen.size() + " of 8");
		assertTrue(std(x) + std(y) > 2.0, "object position should vary with the seed");
		assertTrue(std(size) > 1.0, "object size should vary with the seed");
	}

	@Test
	void vaeRoundTripKeepsHeldOutImages() {
		Random rng = new Random(7);
		int images = 30;
		double sum = 0, worst = Double.MAX_VALUE;
		for (int k = 0; k < images; k++) {
			HeldoutSet.Combo combo = heldout.get(k % heldout.size());
			double[] layout = ShapeImages.randomLayout(rng, 64);
			Img<FloatType> img = ShapeImages.render(colors.get(combo.color()), combo.shape(), colors.get(combo.background()),
				layout[0], layout[1], layout[2], 64);
			double psnr = psnr(img, pipeline.vaeRoundTrip(img));
			sum += psnr;
			worst = Math.min(worst, psnr);
		}
		double mean = sum / images;
		System.out.printf(Locale.ROOT, "[quality] VAE round trip of %d held-out images: mean PSNR %.2f dB (min %.2f)%n", images, mean, worst);
		assertTrue(mean >= 27, "VAE round-trip mean PSNR " + mean + " dB is below 27 dB");
	}

	private static double psnr(Img<FloatType> a, Img<FloatType> b) {
		double se = 0;
		long n = 0;
		var ca = a.cursor();
		var rb = b.randomAccess();
		while (ca.hasNext()) {
			float va = ca.next().get();
			rb.setPosition(ca);
			double d = va - Math.min(1, Math.max(0, rb.get().get()));
			se += d * d;
			n++;
		}
		return 10 * Math.log10(1.0 / Math.max(se / n, 1e-10));
	}

	private static double std(double[] v) {
		double m = 0, s = 0;
		for (double x : v) m += x;
		m /= v.length;
		for (double x : v) s += (x - m) * (x - m);
		return Math.sqrt(s / v.length);
	}

	private static double min(double[] v) { return java.util.Arrays.stream(v).min().orElse(Double.NaN); }
	private static double max(double[] v) { return java.util.Arrays.stream(v).max().orElse(Double.NaN); }
}
