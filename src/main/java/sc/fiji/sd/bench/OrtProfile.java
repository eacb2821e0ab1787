package sc.fiji.sd.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * An ONNX Runtime profile (the JSON trace {@code SessionOptions.enableProfiling} writes): the runs ({@code model_run}
 * events) but the first (its allocations are a first call's, measured apart), and the kernel time of the nodes within
 * them, summed by operator type. Times in seconds.
 */
final class OrtProfile {

	private int runs;
	private double runSeconds, kernelSeconds;
	private final Map<String, Double> byOperator = new LinkedHashMap<>();

	static OrtProfile read(Path file) throws IOException {
		try (Reader r = Files.newBufferedReader(file)) {
			return of(JsonParser.parseReader(r));
		}
	}

	static OrtProfile of(JsonElement trace) {
		JsonArray events = trace.isJsonArray() ? trace.getAsJsonArray() : trace.getAsJsonObject().getAsJsonArray(
			"traceEvents");
		java.util.List<double[]> runs = new java.util.ArrayList<>(); // start, duration (µs)
		for (JsonElement e : events) {
			if (e.isJsonObject() && string(e.getAsJsonObject(), "cat").equals("Session")
				&& string(e.getAsJsonObject(), "name").equals("model_run"))
				runs.add(new double[] { number(e.getAsJsonObject(), "ts"), number(e.getAsJsonObject(), "dur") });
		}
		runs.sort(java.util.Comparator.comparingDouble(r -> r[0]));
		if (runs.size() > 1) runs.remove(0);
		OrtProfile p = new OrtProfile();
		p.runs = runs.size();
		for (double[] r : runs) p.runSeconds += r[1] / 1e6;
		for (JsonElement e : events) {
			if (!e.isJsonObject()) continue;
			JsonObject o = e.getAsJsonObject();
			if (!string(o, "cat").equals("Node") || !string(o, "name").endsWith("_kernel_time")) continue;
			double ts = number(o, "ts");
			if (runs.stream().noneMatch(r -> ts >= r[0] && ts <= r[0] + r[1])) continue;
			JsonObject args = o.has("args") && o.get("args").isJsonObject() ? o.getAsJsonObject("args") : new JsonObject();
			String op = string(args, "op_name");
			double seconds = number(o, "dur") / 1e6;
			p.kernelSeconds += seconds;
			p.byOperator.merge(op.isEmpty() ? "?" : op, seconds, Double::sum);
		}
		return p;
	}

	private static double number(JsonObject o, String key) {
		JsonElement v = o.get(key);
		return v == null || !v.isJsonPrimitive() ? 0 : v.getAsDouble();
	}

	private static String string(JsonObject o, String key) {
		JsonElement v = o.get(key);
		return v == null || !v.isJsonPrimitive() ? "" : v.getAsString();
	}

	int runs() { return runs; }
	double runSeconds() { return runSeconds; }
	double kernelSeconds() { return kernelSeconds; }
	Map<String, Double> byOperator() { return byOperator; }
}
