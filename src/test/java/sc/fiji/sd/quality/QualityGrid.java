package sc.fiji.sd.quality;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.scheduler.Schedulers;

/**
 * The model card's sampler × steps × guidance grid: for each cell, the share of held-out images (every combination of
 * {@code heldout.json} × seeds) whose background, object colour and shape are all right, by {@link ShapeCheck}.
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) sc.fiji.sd.quality.QualityGrid \
 *   [--model DIR] [--samplers "DDIM,Euler a"] [--steps 10,20] [--guidance 3,5,7,9] [--seeds 2] [--first-seed 1000]
 * </pre>
 * Every image of a cell has its own seed ({@link #seed}), so a cell's images are independent draws; another set of
 * images of the same cells: {@code --first-seed 1500} (disjoint from the default while {@code --seeds} ≤ 500).
 * Prints the data set's own seed spread ({@link #drawnSpread}), one line per cell (its rate and its seed spread,
 * {@link #measure}) and a table; not a unit test (it takes minutes), {@code EmbeddedModelQualityTest} checks a few of
 * its corners.
 */
public final class QualityGrid {

	public static void main(String[] args) throws Exception {
		Path model = EmbeddedModel.path();
		List<String> samplers = new ArrayList<>(Schedulers.names());
		int[] steps = { 10, 20 };
		double[] guidance = { 3, 5, 7, 9 };
		int seeds = 2;
		long firstSeed = 1000;
		for (int i = 0; i < args.length; i += 2) {
			String v = args[i + 1];
			switch (args[i]) {
				case "--model" -> model = Path.of(v);
				case "--samplers" -> samplers = Arrays.stream(v.split(",")).map(String::trim).toList();
				case "--steps" -> steps = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
				case "--guidance" -> guidance = Arrays.stream(v.split(",")).mapToDouble(Double::parseDouble).toArray();
				case "--seeds" -> seeds = Integer.parseInt(v);
				case "--first-seed" -> firstSeed = Long.parseLong(v);
				default -> throw new IllegalArgumentException("unknown option " + args[i]);
			}
		}
		HeldoutSet set = HeldoutSet.read(model);
		ShapeCheck check = new ShapeCheck(set.colors());
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(StableDiffusionModel.load(model, "cpu"));
		double[] drawn = drawnSpread(set, check, 40, 7);
		System.out.printf(Locale.ROOT, "[grid] the data set's own layout (40 drawn images a combination, not generated),"
			+ " seed spread: centre x %.1f px, y %.1f px, size %.1f px%n", drawn[0], drawn[1], drawn[2]);
		StringBuilder table = new StringBuilder("| sampler |");
		for (int s : steps) for (double g : guidance) table.append(String.format(Locale.ROOT, " %d st g%s |", s, fmt(g)));
		table.append("\n|---|").append("---|".repeat(steps.length * guidance.length)).append('\n');
		int cells = 0, passing = 0;
		double worst20 = 1, worst10 = 1;
		for (String sampler : samplers) {
			table.append("| ").append(sampler).append(" |");
			for (int s : steps) {
				for (double g : guidance) {
					Cell cell = measure(pipeline, set, check, sampler, s, g, seeds, firstSeed);
					double rate = cell.rate();
					System.out.printf(Locale.ROOT, "[grid] %s, %d steps, guidance %s: %.1f %% of %d images;"
						+ " seed spread: centre x %.1f px, y %.1f px, size %.1f px%n", sampler, s, fmt(g), 100 * rate,
						set.combos().size() * seeds, cell.spreadX(), cell.spreadY(), cell.spreadSize());
					table.append(String.format(Locale.ROOT, " %.0f |", 100 * rate));
					cells++;
					if (rate >= (s >= 20 ? 0.9 : 0.8)) passing++;
					if (s >= 20) worst20 = Math.min(worst20, rate);
					else worst10 = Math.min(worst10, rate);
				}
			}
			table.append('\n');
		}
		System.out.println(table);
		System.out.printf(Locale.ROOT, "[grid] %d of %d cells meet the bar (>= 90 %% at 20 steps, >= 80 %% at 10);"
			+ " worst at 20 steps %.1f %%, at 10 steps %.1f %%%n", passing, cells, 100 * worst20, 100 * worst10);
	}

	/**
	 * One cell: the fraction of images with background, object colour and shape all right over the held-out
	 * combinations × {@code seeds} images each, image k of combination i drawn with {@link #seed seed(firstSeed, i, k)}.
	 */
	static double cell(StableDiffusionPipeline pipeline, HeldoutSet set, ShapeCheck check, String sampler, int steps,
		double guidance, int seeds, long firstSeed)
	{
		return measure(pipeline, set, check, sampler, steps, guidance, seeds, firstSeed).rate();
	}

	/**
	 * A cell's rate, and how much the seed moves and sizes the object: the standard deviations of its centre and size
	 * among the images of one combination that show an object, pooled over the combinations (NaN with one image per
	 * combination). A schedule that starts at too little noise would keep the rate and lose this spread.
	 */
	record Cell(double rate, double spreadX, double spreadY, double spreadSize) {}

	static Cell measure(StableDiffusionPipeline pipeline, HeldoutSet set, ShapeCheck check, String sampler, int steps,
		double guidance, int seeds, long firstSeed)
	{
		int n = 0, ok = 0;
		List<List<double[]>> objectsPerCombination = new ArrayList<>();
		List<HeldoutSet.Combo> combos = set.combos();
		for (int i = 0; i < combos.size(); i++) {
			HeldoutSet.Combo combo = combos.get(i);
			// one batch per combination: its images take the seeds seed(firstSeed, i, 0), + 1, ... (A1111's batch seeds)
			GenerationRequest request = GenerationRequest.builder().prompt(combo.prompt()).steps(steps).guidance(guidance)
				.scheduler(sampler).seed(seed(firstSeed, i, 0)).batchSize(seeds).build();
			List<double[]> objects = new ArrayList<>();
			for (GeneratedImage image : pipeline.generate(request, null).images()) {
				ShapeCheck.Seen seen = check.classify(image.pixels());
				n++;
				if (combo.background().equals(seen.background()) && combo.color().equals(seen.color())
					&& combo.shape().equals(seen.shape())) ok++;
				if (seen.shape() != null) objects.add(new double[] { seen.centreX(), seen.centreY(), seen.size() });
			}
			objectsPerCombination.add(objects);
		}
		double[] spread = pooledSpread(objectsPerCombination);
		return new Cell(ok / (double) n, spread[0], spread[1], spread[2]);
	}

	/**
	 * The spread the grid's cells are compared with: the same measure on images drawn as the training set draws them
	 * (random size and position, {@link ShapeImages#randomLayout}), {@code perCombination} of each held-out combination.
	 */
	static double[] drawnSpread(HeldoutSet set, ShapeCheck check, int perCombination, long seed) {
		Random rng = new Random(seed);
		List<List<double[]>> groups = new ArrayList<>();
		for (HeldoutSet.Combo combo : set.combos()) {
			List<double[]> objects = new ArrayList<>();
			for (int k = 0; k < perCombination; k++) {
				double[] layout = ShapeImages.randomLayout(rng, 64);
				ShapeCheck.Seen seen = check.classify(ShapeImages.render(set.colors().get(combo.color()), combo.shape(),
					set.colors().get(combo.background()), layout[0], layout[1], layout[2], 64));
				if (seen.shape() != null) objects.add(new double[] { seen.centreX(), seen.centreY(), seen.size() });
			}
			groups.add(objects);
		}
		return pooledSpread(groups);
	}

	/**
	 * The pooled within-group standard deviation of each coordinate (centre x, centre y, size): the squared deviations
	 * from each group's own mean, summed over the groups and divided by the images less one per group, so the
	 * differences between combinations (a triangle is drawn smaller than a square) do not count. NaN when no group
	 * has two images.
	 */
	static double[] pooledSpread(List<List<double[]>> groups) {
		double[] squares = new double[3];
		int freedom = 0;
		for (List<double[]> group : groups) {
			if (group.size() < 2) continue;
			for (int d = 0; d < 3; d++) {
				double mean = 0;
				for (double[] o : group) mean += o[d] / group.size();
				for (double[] o : group) squares[d] += (o[d] - mean) * (o[d] - mean);
			}
			freedom += group.size() - 1;
		}
		double[] spread = new double[3];
		for (int d = 0; d < 3; d++) spread[d] = Math.sqrt(squares[d] / freedom);
		return spread;
	}

	/**
	 * The seed of image k of held-out combination i. Combinations that shared their seeds shared their initial noise,
	 * so one unlucky noise (a tiny object, say) failed all of them together and a cell moved by far more than its
	 * number of images suggests; 1000 apart, no two images of a grid share a seed, and more images per combination
	 * keep the first ones ({@code --seeds 6} contains {@code --seeds 2}'s images).
	 */
	static long seed(long firstSeed, int combination, int image) {
		return firstSeed + 1000L * combination + image;
	}

	private static String fmt(double g) {
		return g == Math.rint(g) ? Integer.toString((int) g) : Double.toString(g);
	}
}
