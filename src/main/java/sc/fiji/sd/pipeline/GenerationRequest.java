package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;

/**
 * Everything one generation needs, as the user chose it. Immutable; build with {@link #builder()}.
 * <p>
 * Images are ImgLib2 intervals: the init image is X × Y × 3 (R, G, B) with values in [0, 1]; the mask is X × Y with
 * values in [0, 1], where 1 (white) means "repaint". Front ends convert their own image types before building a
 * request, so the core never sees ImageJ classes.
 */
public final class GenerationRequest {

	public enum Mode {
		TEXT_TO_IMAGE, IMAGE_TO_IMAGE, INPAINT
	}

	/** Seed value that asks for a random seed; the one drawn is reported in the result. */
	public static final long RANDOM_SEED = -1;

	private final Mode mode;
	private final String prompt;
	private final String negativePrompt;
	private final int steps;
	private final double guidance;
	private final long seed;
	private final int width;
	private final int height;
	private final String scheduler;
	private final int batchSize;
	private final int batchCount;
	private final double strength;
	private final RandomAccessibleInterval<FloatType> initImage;
	private final RandomAccessibleInterval<FloatType> mask;
	private final int maskFeather;
	private final long variationSeed;
	private final double variationStrength;
	private final int tileSize;
	private final int tileOverlap;
	private final List<ControlNetUnit> controls;
	private final double refinerSwitch;
	private final Map<GenerationSetting<?>, Object> settings;

	private GenerationRequest(Builder b) {
		mode = b.mode;
		prompt = b.prompt == null ? "" : b.prompt;
		negativePrompt = b.negativePrompt == null ? "" : b.negativePrompt;
		steps = b.steps;
		guidance = b.guidance;
		seed = b.seed;
		width = b.width;
		height = b.height;
		scheduler = b.scheduler;
		batchSize = b.batchSize;
		batchCount = b.batchCount;
		strength = b.strength;
		initImage = b.initImage;
		mask = b.mask;
		maskFeather = b.maskFeather;
		variationSeed = b.variationSeed;
		variationStrength = b.variationStrength;
		tileSize = b.tileSize;
		tileOverlap = b.tileOverlap;
		controls = List.copyOf(b.controls);
		refinerSwitch = b.refinerSwitch;
		settings = Collections.unmodifiableMap(new LinkedHashMap<>(b.settings));
	}

	public static Builder builder() {
		return new Builder();
	}

	public Builder toBuilder() {
		Builder b = new Builder();
		b.mode = mode;
		b.prompt = prompt;
		b.negativePrompt = negativePrompt;
		b.steps = steps;
		b.guidance = guidance;
		b.seed = seed;
		b.width = width;
		b.height = height;
		b.scheduler = scheduler;
		b.batchSize = batchSize;
		b.batchCount = batchCount;
		b.strength = strength;
		b.initImage = initImage;
		b.mask = mask;
		b.maskFeather = maskFeather;
		b.variationSeed = variationSeed;
		b.variationStrength = variationStrength;
		b.tileSize = tileSize;
		b.tileOverlap = tileOverlap;
		b.controls.addAll(controls);
		b.refinerSwitch = refinerSwitch;
		b.settings.putAll(settings);
		return b;
	}

	public Mode mode() { return mode; }
	public String prompt() { return prompt; }
	public String negativePrompt() { return negativePrompt; }
	public int steps() { return steps; }
	/** Classifier-free guidance scale; at or below 1 the unconditional pass is skipped. */
	public double guidance() { return guidance; }
	/** Seed of the first image; batch images use seed, seed + 1, …; {@link #RANDOM_SEED} draws one. */
	public long seed() { return seed; }
	/** Output width in pixels; 0 means the model's native size (or the init image's size). */
	public int width() { return width; }
	/** Output height in pixels; 0 means the model's native size (or the init image's size). */
	public int height() { return height; }
	/** Sampler name (AUTOMATIC1111 names such as "Euler a", "DPM++ 2M Karras"); null means the model's own. */
	public String scheduler() { return scheduler; }
	/** Images denoised together in one batch. */
	public int batchSize() { return batchSize; }
	/** Number of batches run one after the other. */
	public int batchCount() { return batchCount; }
	/** Image to image / inpainting: how much of the init image is replaced, 0 (keep) … 1 (ignore). */
	public double strength() { return strength; }
	public RandomAccessibleInterval<FloatType> initImage() { return initImage; }
	public RandomAccessibleInterval<FloatType> mask() { return mask; }
	/** Inpainting: width in pixels of the soft edge used to paste the result into the original. */
	public int maskFeather() { return maskFeather; }
	/** A1111's "Variation seed" of the first image ({@link #RANDOM_SEED} draws one); see {@link VariationSeeds}. */
	public long variationSeed() { return variationSeed; }
	/** A1111's "Variation seed strength": 0 (the seed's image, the default) … 1 (the variation seed's noise). */
	public double variationStrength() { return variationStrength; }
	/**
	 * Tiled diffusion (MultiDiffusion): the side in pixels of the square tiles the UNet denoises each step, whose
	 * predictions are averaged where they overlap; 0 (default) runs the UNet on the whole image at once.
	 */
	public int tileSize() { return tileSize; }
	/** Tiled diffusion: how many pixels neighbouring tiles share (a multiple of 8, less than the tile size). */
	public int tileOverlap() { return tileOverlap; }
	/** The ControlNets that guide the UNet, in the order given (A1111's "ControlNet 0", "ControlNet 1", …); empty for none. */
	public List<ControlNetUnit> controls() { return controls; }
	/**
	 * SDXL refiner hand-off (A1111's "Refiner switch at"): the fraction of the denoising the model runs before the
	 * refiner set on the pipeline continues from its latents (diffusers' {@code denoising_end} on the base,
	 * {@code denoising_start} on the refiner); 0 (default) runs no refiner.
	 */
	public double refinerSwitch() { return refinerSwitch; }
	/** The value of a setting of {@link GenerationSettings} (its default when none was set). */
	public <T> T setting(GenerationSetting<T> setting) {
		return settings.containsKey(setting) ? setting.type().cast(settings.get(setting)) : setting.defaultValue();
	}

	/**
	 * Checks what needs no model (ranges of steps, guidance, strength, feather, batch, seed; sizes positive multiples of
	 * 8; the sampler name), so a front end can refuse bad values before loading a model.
	 *
	 * @throws sc.fiji.sd.StableDiffusionException with a message that names the value and the valid range
	 */
	public GenerationRequest validate() {
		RequestChecks.check(this, RequestChecks.LATENT_FACTOR);
		return this;
	}

	public static final class Builder {
		private Mode mode = Mode.TEXT_TO_IMAGE;
		private String prompt = "";
		private String negativePrompt = "";
		private int steps = 20;
		private double guidance = 7.0;
		private long seed = RANDOM_SEED;
		private int width;
		private int height;
		private String scheduler;
		private int batchSize = 1;
		private int batchCount = 1;
		private double strength = 0.75;
		private RandomAccessibleInterval<FloatType> initImage;
		private RandomAccessibleInterval<FloatType> mask;
		private int maskFeather = 4;
		private long variationSeed = RANDOM_SEED;
		private double variationStrength;
		private int tileSize;
		private int tileOverlap = 16;
		private final List<ControlNetUnit> controls = new ArrayList<>();
		private double refinerSwitch;
		private final Map<GenerationSetting<?>, Object> settings = new LinkedHashMap<>();

		public Builder mode(Mode v) { mode = v; return this; }
		public Builder prompt(String v) { prompt = v; return this; }
		public Builder negativePrompt(String v) { negativePrompt = v; return this; }
		public Builder steps(int v) { steps = v; return this; }
		public Builder guidance(double v) { guidance = v; return this; }
		public Builder seed(long v) { seed = v; return this; }
		public Builder width(int v) { width = v; return this; }
		public Builder height(int v) { height = v; return this; }
		public Builder size(int w, int h) { width = w; height = h; return this; }
		public Builder scheduler(String v) { scheduler = v; return this; }
		public Builder batchSize(int v) { batchSize = v; return this; }
		public Builder batchCount(int v) { batchCount = v; return this; }
		public Builder strength(double v) { strength = v; return this; }
		public Builder initImage(RandomAccessibleInterval<FloatType> v) { initImage = v; return this; }
		public Builder mask(RandomAccessibleInterval<FloatType> v) { mask = v; return this; }
		public Builder maskFeather(int v) { maskFeather = v; return this; }
		public Builder variationSeed(long v) { variationSeed = v; return this; }
		public Builder variationStrength(double v) { variationStrength = v; return this; }
		public Builder tileSize(int v) { tileSize = v; return this; }
		public Builder tileOverlap(int v) { tileOverlap = v; return this; }
		/** Adds a ControlNet (call again for several; their residuals are summed). */
		public Builder control(ControlNetUnit v) {
			controls.add(Objects.requireNonNull(v, "ControlNet unit"));
			return this;
		}
		/** Replaces the ControlNets with {@code v} (none when empty). */
		public Builder controls(List<ControlNetUnit> v) {
			controls.clear();
			v.forEach(this::control);
			return this;
		}
		public Builder refinerSwitch(double v) { refinerSwitch = v; return this; }
		/** Sets a setting of {@link GenerationSettings}; null: its default. */
		public <T> Builder setting(GenerationSetting<T> setting, T v) {
			if (v == null) settings.remove(setting);
			else settings.put(setting, v);
			return this;
		}
		/**
		 * Sets settings from a front end's values (numbers, text, or the values themselves; see
		 * {@link GenerationSetting#value}), checked as they are set.
		 */
		public Builder settings(Map<GenerationSetting<?>, ?> values) {
			values.forEach((s, v) -> settings.put(s, s.value(v)));
			settings.values().removeIf(java.util.Objects::isNull);
			return this;
		}

		/** Builds the request; the pipeline validates it against the model (sizes, mode, strength). */
		public GenerationRequest build() {
			if (mode == null) throw new IllegalArgumentException("mode must be set");
			return new GenerationRequest(this);
		}
	}
}
