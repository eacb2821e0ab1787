package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import ai.onnxruntime.OrtException;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Cancellation;

/**
 * Tiled diffusion (MultiDiffusion, Bar-Tal et al. 2023): each step the UNet denoises overlapping tiles of the latent,
 * each of a size the model was trained on, and the prediction of a latent pixel is the mean of the tiles' predictions
 * there (uniform weights, as in the paper). Memory then grows with the tile, not the image, and the averaging each
 * step ties neighbouring tiles together, so no seam shows.
 * <p>
 * The paper averages each tile's {@code x_{t−1}}; this averages the noise predictions and runs one scheduler step on the
 * whole latent. The two agree for every step that is affine in the prediction with coefficients shared by all pixels
 * (DDIM, Euler, Euler a and DDPM, whose step noise is drawn once per pixel, LCM). Multistep samplers (DPM++ 2M, PLMS,
 * UniPC) keep the averaged predictions of earlier steps where per-tile samplers would keep each tile's own; their step
 * is linear in that history and the tiles and weights are the same every step, so the average of the tiles' steps is
 * still this one step. Not so for a sampler that evaluates the UNet at an intermediate point (Heun, DPM2: here the
 * intermediate latent is averaged too, where per-tile samplers would evaluate each tile at its own) or whose step is
 * not affine in the prediction (thresholding): a departure from the paper, not a seam.
 * <p>
 * Tiles start every {@code tile − overlap} latents from the top left; the last row and column are moved back to end at
 * the latent's edge, so every pixel is covered and all tiles have the same size. A latent no larger than one tile is one
 * tile, whose prediction is the whole-latent UNet's exactly.
 */
final class TiledUnet implements NoisePredictor {

	/** A tile's top left corner, in latents. */
	private record Tile(int x, int y) {}

	private final List<Tile> tiles = new ArrayList<>();
	/** One runner for all tiles, or one per tile when a 9-channel UNet's extra channels differ per tile. */
	private final List<UnetRunner> runners = new ArrayList<>();
	private final ProgressListener progress;
	private final int images, latentW, latentH, tileW, tileH;
	/** Per latent pixel (one image, one channel): how many tiles cover it. */
	private final float[] coverage;
	private int firstStep, totalSteps;

	/**
	 * @param batch the whole latent's UNet calls (its size is the plan's); the tiles' are the same at the tile size
	 * @param extraChannels a 9-channel UNet's channels after the latents for the whole latent, or null
	 */
	TiledUnet(StableDiffusionModel model, UnetBatch batch, Plan plan, TextInputs text, float[] extraChannels,
		List<UnetInput.Factory> inputs, LongConsumer onCall, ProgressListener progress) throws OrtException
	{
		this.progress = progress;
		this.images = batch.images();
		this.latentW = plan.latentW;
		this.latentH = plan.latentH;
		this.tileW = plan.tileW;
		this.tileH = plan.tileH;
		for (int y : starts(latentH, tileH, plan.tileOverlap)) {
			for (int x : starts(latentW, tileW, plan.tileOverlap)) tiles.add(new Tile(x, y));
		}
		coverage = new float[latentW * latentH];
		for (Tile tile : tiles) {
			for (int y = 0; y < tileH; y++) {
				for (int x = 0; x < tileW; x++) coverage[(tile.y + y) * latentW + tile.x + x]++;
			}
		}
		UnetBatch tileBatch = new UnetBatch(batch.model(), batch.request(), tileW * 8, tileH * 8, batch.images(),
			batch.guidance(), batch.calls());
		try {
			int extra = extraChannels == null ? 0 : extraChannels.length / (latentW * latentH);
			for (Tile tile : extraChannels == null ? tiles.subList(0, 1) : tiles) {
				float[] channels = extraChannels == null ? null : crop(extraChannels, extra, tile);
				runners.add(new UnetRunner(model, tileBatch, text, channels, inputs, onCall));
			}
		}
		catch (OrtException | RuntimeException e) {
			close();
			throw e;
		}
	}

	/** Where tiles of {@code tile} latents start along a side of {@code size}, {@code tile − overlap} apart. */
	static List<Integer> starts(int size, int tile, int overlap) {
		List<Integer> starts = new ArrayList<>();
		int stride = Math.max(1, tile - overlap);
		for (int s = 0;; s += stride) {
			if (s + tile >= size) {
				starts.add(Math.max(0, size - tile));
				return starts;
			}
			starts.add(s);
		}
	}

	int tileCount() {
		return tiles.size();
	}

	@Override
	public void runsSteps(int first, int total) {
		firstStep = first;
		totalSteps = total;
		runners.forEach(r -> r.runsSteps(first, total));
	}

	@Override
	public float[] predict(int step, double t, float[] latentInput, boolean last, Cancellation cancellation)
		throws OrtException
	{
		float[] sum = new float[latentInput.length];
		for (int k = 0; k < tiles.size(); k++) {
			// a tile is short, but a large image has many: stop between them too
			if (progress.isCanceled() || cancellation.isCancelled()) throw new Cancellation.CancelledException(null);
			if (totalSteps > 0) {
				progress.status("step " + (step - firstStep + 1) + "/" + (totalSteps - firstStep) + ", tile " + (k + 1)
					+ "/" + tiles.size());
			}
			Tile tile = tiles.get(k);
			UnetRunner unet = runners.get(runners.size() == 1 ? 0 : k);
			float[] prediction = unet.predict(step, t, crop(latentInput, images * 4, tile), last && k == tiles.size() - 1,
				cancellation);
			add(prediction, images * 4, tile, sum);
		}
		int plane = latentW * latentH;
		for (int j = 0; j < sum.length; j++) sum[j] /= coverage[j % plane];
		return sum;
	}

	/** The tile of {@code planes} stacked planes of the latent's size. */
	private float[] crop(float[] planesOfLatent, int planes, Tile tile) {
		float[] out = new float[planes * tileW * tileH];
		for (int p = 0; p < planes; p++) {
			for (int y = 0; y < tileH; y++) {
				System.arraycopy(planesOfLatent, (p * latentH + tile.y + y) * latentW + tile.x, out,
					(p * tileH + y) * tileW, tileW);
			}
		}
		return out;
	}

	/** Adds a tile's {@code planes} planes into the latent-sized {@code sum}. */
	private void add(float[] tilePlanes, int planes, Tile tile, float[] sum) {
		for (int p = 0; p < planes; p++) {
			for (int y = 0; y < tileH; y++) {
				int from = (p * tileH + y) * tileW, to = (p * latentH + tile.y + y) * latentW + tile.x;
				for (int x = 0; x < tileW; x++) sum[to + x] += tilePlanes[from + x];
			}
		}
	}

	@Override
	public void close() {
		runners.forEach(UnetRunner::close);
	}
}
