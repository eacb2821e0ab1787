package sc.fiji.sd.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;

/**
 * Listens to every session call of a model: sums the time per component and, while {@link #capture} is on, copies
 * the calls so the benchmark can replay them as its floor.
 */
final class CallRecorder implements OnnxComponent.CallListener, AutoCloseable {

	/** The component name of every ControlNet's calls (their times are summed under it). */
	static final String CONTROLNET = "controlnet";

	private final StableDiffusionModel model;
	/** Per component name: the durations of its calls since {@link #clear()}, in ns. */
	final Map<String, List<Long>> nanos = new LinkedHashMap<>();
	final List<RecordedCall> calls = new ArrayList<>();
	boolean capture;

	CallRecorder(StableDiffusionModel model) {
		this.model = model;
		for (OnnxComponent c : components(model)) c.setCallListener(this);
	}

	static List<OnnxComponent> components(StableDiffusionModel model) {
		List<OnnxComponent> list = new ArrayList<>();
		for (OnnxComponent c : new OnnxComponent[] { model.textEncoder(), model.unet(), model.vaeEncoder(),
			model.vaeDecoder() }) if (c != null) list.add(c);
		model.controlNets().forEach(net -> list.add(net.component()));
		return list;
	}

	@Override
	public void called(OnnxComponent component, Map<String, ? extends OnnxTensorLike> inputs, OrtSession.Result result,
		long ns, boolean releasedMemory)
	{
		nanos.computeIfAbsent(component.name(), k -> new ArrayList<>()).add(ns);
		if (capture) calls.add(RecordedCall.of(component, inputs, result, releasedMemory));
	}

	void clear() {
		nanos.clear();
	}

	List<Long> of(String component) {
		return nanos.getOrDefault(component, List.of());
	}

	long total(String component) {
		long sum = 0;
		for (long n : of(component)) sum += n;
		return sum;
	}

	@Override
	public void close() {
		for (OnnxComponent c : components(model)) c.setCallListener(null);
	}
}
