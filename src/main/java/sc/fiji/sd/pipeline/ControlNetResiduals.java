package sc.fiji.sd.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.image.Lanczos;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.Tensors;

/**
 * ControlNet's residuals for the UNet of OnnxStack's split layout ({@code controlnet/model.onnx}), as diffusers'
 * {@code StableDiffusionControlNetPipeline} computes them with guess mode off: before every UNet call, each ControlNet
 * of the request runs once on the same sample, timestep and text conditioning as the UNet (so both halves of
 * classifier-free guidance get residuals made with their own text), with its control image (RGB in [0, 1], NCHW, at
 * the output size) on every row; its residuals are multiplied by its scale (by the ControlNet itself when it has a
 * {@code conditioning_scale} input) and summed over the ControlNets. In tiled diffusion each call sees a tile of the
 * latent ({@link UnetInput.Window}) and each ControlNet the same tile of its control image, as MultiDiffusion
 * implementations with ControlNet do.
 * <p>
 * Guidance window as diffusers' {@code controlnet_keep}: at step {@code i} of the {@code n} the loop runs, a unit acts
 * unless {@code i/n < start} or {@code (i+1)/n > end}. A unit that does not act (outside its window, or scale 0) is not
 * run: its residuals would be zeros. A model loaded with ControlNets but asked without any gets zero residuals, which
 * gives the plain UNet's prediction (the ControlNet UNet has the same weights).
 * <p>
 * SDXL ControlNets ({@code StableDiffusionXLControlNetPipeline}) also take the UNet's added conditioning,
 * {@code text_embeds} and {@code time_ids}: they get the tensors the UNet gets for the call.
 */
final class ControlNetResiduals implements UnetInput {

	private final StableDiffusionModel model;
	private final List<Unit> units;
	private final List<String> names;
	private final int rows, images, latentValues, width, height;
	private final Tensors.Reusable sample;
	private final Map<String, float[]> sums = new HashMap<>();
	private final Map<String, Tensors.Reusable> residuals = new LinkedHashMap<>();
	private int first, total;

	/**
	 * One ControlNet of the request with its control image: the whole image at the output size (RGB in [0, 1], NCHW)
	 * and the tensor the ControlNet reads, the window of it that the calls see, on every row.
	 */
	private static final class Unit {
		final ControlNetModel net;
		final ControlNetUnit request;
		final Tensors.Reusable image;
		float[] whole;
		UnetInput.Window filled; // the window whose part of the control image is in image

		Unit(ControlNetModel net, ControlNetUnit request, Tensors.Reusable image) {
			this.net = net;
			this.request = request;
			this.image = image;
		}
	}

	private ControlNetResiduals(StableDiffusionModel model, UnetBatch batch, List<String> names) throws OrtException {
		this.model = model;
		this.names = names;
		this.rows = batch.callBatch();
		this.images = batch.images();
		this.latentValues = 4 * batch.latentWidth() * batch.latentHeight();
		this.width = batch.width();
		this.height = batch.height();
		this.units = new ArrayList<>();
		Tensors.Reusable s = null;
		try {
			for (ControlNetUnit u : batch.request().controls()) {
				ControlNetModel net = loaded(model, u.model());
				units.add(new Unit(net, u, new Tensors.Reusable(net.component().inputType("controlnet_cond"),
					new long[] { rows, 3, height, width })));
			}
			ControlNetModel any = model.controlNets().get(0);
			s = new Tensors.Reusable(any.component().inputType("sample"),
				new long[] { rows, 4, batch.latentHeight(), batch.latentWidth() });
		}
		catch (OrtException | RuntimeException e) {
			units.forEach(u -> u.image.close());
			throw e;
		}
		this.sample = s;
	}

	/** The unit's control image for this call's window: the whole image resized once, the window's part on every row. */
	private OnnxTensor image(Unit u, UnetInput.Window window) {
		if (window.equals(u.filled)) return u.image.tensor();
		int wholeW = 8 * window.wholeWidth(), wholeH = 8 * window.wholeHeight();
		if (u.whole == null) u.whole = ImageTensors.toUnitNchw(resized(u.request.image(), wholeW, wholeH));
		int x0 = 8 * window.x(), y0 = 8 * window.y();
		for (int row = 0; row < rows; row++) {
			for (int c = 0; c < 3; c++) {
				for (int y = 0; y < height; y++) {
					u.image.put(((row * 3 + c) * height + y) * width, u.whole, (c * wholeH + y0 + y) * wholeW + x0, width);
				}
			}
		}
		u.filled = window;
		return u.image.tensor();
	}

	/** For a model loaded with ControlNets (its UNet takes residuals); null for any other. */
	static UnetInput create(UnetBatch batch) throws OrtException {
		StableDiffusionModel model = batch.model();
		List<String> names = ControlNetModel.residualInputs(model.unet());
		if (names.isEmpty() || model.controlNets().isEmpty()) return null;
		return new ControlNetResiduals(model, batch, names);
	}

	/**
	 * Before any work: the request's ControlNets are loaded with the model; says when a control image is resized to
	 * the output size.
	 */
	static void check(StableDiffusionModel model, GenerationRequest request, Plan plan, ProgressListener progress) {
		List<ControlNetUnit> controls = request.controls();
		if (controls.isEmpty()) return;
		for (int i = 0; i < controls.size(); i++) {
			ControlNetUnit u = controls.get(i);
			loaded(model, u.model());
			long w = u.image().dimension(0), h = u.image().dimension(1);
			if (w != plan.width || h != plan.height) {
				progress.status("ControlNet " + i + ": control image " + w + "x" + h + " resized to the output size "
					+ plan.width + "x" + plan.height);
			}
		}
	}

	private static ControlNetModel loaded(StableDiffusionModel model, Path path) {
		Path wanted = ControlNetModel.normalize(path);
		for (ControlNetModel net : model.controlNets()) if (net.source().equals(wanted)) return net;
		throw new StableDiffusionException("The ControlNet " + wanted + " was not loaded with the model " + model.folder()
			+ (model.controlNets().isEmpty() ? " (loaded without ControlNets)" : "")
			+ ": load the model with the request's ControlNets (ModelProvider.Key with its ControlNet folders).");
	}

	private static RandomAccessibleInterval<FloatType> resized(RandomAccessibleInterval<FloatType> image, int width,
		int height)
	{
		if (image.dimension(0) == width && image.dimension(1) == height) return image;
		return Lanczos.resize(image, width, height); // as diffusers' control image processor (PIL Lanczos)
	}

	/** diffusers' {@code controlnet_keep}: whether a unit acts at step {@code i} of the {@code n} the loop runs. */
	static boolean acts(ControlNetUnit u, int i, int n) {
		return !((double) i / n < u.start() || (double) (i + 1) / n > u.end());
	}

	@Override
	public void runsSteps(int first, int total) {
		this.first = first;
		this.total = total;
	}

	@Override
	public Map<String, OnnxTensor> inputsFor(UnetCall call) throws OrtException {
		for (int k = 0; k < rows / images; k++) sample.put(k * images * latentValues, call.latentInput(), 0,
			images * latentValues);
		sums.values().forEach(a -> Arrays.fill(a, 0f));
		int n = total - first, i = call.step() - first;
		for (Unit u : units) {
			double scale = acts(u.request, i, n) ? u.request.scale() : 0;
			if (scale != 0) add(u.net, image(u, call.window()), call, scale);
		}
		if (residuals.isEmpty()) learnShapes(call);
		for (String name : names) residuals.get(name).put(0, sums.get(name), 0, sums.get(name).length);
		Map<String, OnnxTensor> out = new HashMap<>();
		residuals.forEach((name, t) -> out.put(name, t.tensor()));
		return out;
	}

	/** Runs {@code net} for this call and adds its residuals, times {@code scale}, to the sums. */
	private void add(ControlNetModel net, OnnxTensor image, UnetCall call, double scale) throws OrtException {
		Map<String, OnnxTensor> in = new HashMap<>();
		in.put("sample", sample.tensor());
		in.put("encoder_hidden_states", call.inputs().get("encoder_hidden_states"));
		in.put("controlnet_cond", image);
		for (String added : ControlNetModel.SDXL_INPUTS) { // SDXL's added conditioning, as the UNet gets it
			if (net.component().hasInput(added)) in.put(added, call.inputs().get(added));
		}
		boolean scalesItself = net.scalesItself();
		try (OnnxTensor timestep = UnetRunner.timestep(net.component(), call.timestep(), rows);
			OnnxTensor scaleTensor = scalesItself ? scale(net, scale) : null)
		{
			in.put("timestep", timestep);
			if (scaleTensor != null) in.put(ControlNetModel.SCALE_INPUT, scaleTensor);
			Set<String> wanted = new LinkedHashSet<>(names);
			try (OrtSession.Result r = net.component().run(in, wanted, call.cancellation())) {
				for (String name : names) {
					OnnxValue v = r.get(name).orElseThrow();
					float[] values = Tensors.toFloats(v);
					if (!residuals.containsKey(name)) allocate(name, ((OnnxTensor) v).getInfo().getShape());
					float[] sum = sums.get(name);
					if (sum.length != values.length) {
						throw new StableDiffusionException("The ControlNet " + net.name() + " gives " + name + " with "
							+ values.length + " values where another gives " + sum.length + ": they were made for "
							+ "different base models.");
					}
					float f = scalesItself ? 1f : (float) scale;
					for (int j = 0; j < sum.length; j++) sum[j] += values[j] * f;
				}
			}
		}
	}

	/** No unit acts at the first call: run one ControlNet once only to learn the residuals' shapes (then zeros). */
	private void learnShapes(UnetCall call) throws OrtException {
		ControlNetModel net = units.isEmpty() ? model.controlNets().get(0) : units.get(0).net;
		OnnxTensor image = units.isEmpty() ? null : image(units.get(0), call.window());
		if (image == null) {
			long[] shape = { rows, 3, 8L * (sample.shape()[2]), 8L * (sample.shape()[3]) };
			try (OnnxTensor blank = Tensors.create(net.component().inputType("controlnet_cond"),
				new float[Math.toIntExact(shape[0] * 3 * shape[2] * shape[3])], shape))
			{
				add(net, blank, call, 0);
			}
		}
		else {
			add(net, image, call, 0);
		}
		sums.values().forEach(a -> Arrays.fill(a, 0f)); // 0 × NaN would not be 0
	}

	private void allocate(String name, long[] shape) throws OrtException {
		Tensors.Reusable t = new Tensors.Reusable(model.unet().inputType(name), shape);
		residuals.put(name, t);
		sums.put(name, new float[t.count()]);
	}

	/** The scale as the ControlNet declares its {@code conditioning_scale}: float64 or float32, [1] or a scalar. */
	private static OnnxTensor scale(ControlNetModel net, double scale) throws OrtException {
		var env = OnnxEnvironment.get();
		boolean scalar = net.component().inputShape(ControlNetModel.SCALE_INPUT).length == 0;
		if (net.component().inputType(ControlNetModel.SCALE_INPUT) == OnnxJavaType.DOUBLE) {
			return scalar ? OnnxTensor.createTensor(env, scale) : OnnxTensor.createTensor(env, new double[] { scale });
		}
		return scalar ? OnnxTensor.createTensor(env, (float) scale)
			: OnnxTensor.createTensor(env, new float[] { (float) scale });
	}

	@Override
	public void close() {
		units.forEach(u -> u.image.close());
		sample.close();
		residuals.values().forEach(Tensors.Reusable::close);
	}
}
