package sc.fiji.sd.batch;

import java.nio.file.Path;
import java.util.Map;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.control.ControlOptions;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.pipeline.ControlNetUnit;

/**
 * The ControlNet of a manifest row (columns {@code control control_type controlnet control_scale control_start
 * control_end control_low control_high}, the macro keys and the command line's {@code --control…} options): the control
 * image, its pre-processor and ControlNet, how strongly and when it acts.
 *
 * @param image the control image file (resolved against the manifest's folder)
 * @param type the pre-processor's name ({@link ControlPreprocessors})
 * @param controlNet the ControlNet's folder; null: the one beside the row's model ({@link ControlNetModel#besideModel})
 */
public record BatchControl(Path image, String type, Path controlNet, double scale, double start, double end, double low,
	double high)
{

	/** The ControlNet of a row on {@code model}: the one named, else the one beside the model. */
	public Path controlNetFor(Path model) {
		return controlNet != null ? controlNet : ControlNetModel.besideModel(model);
	}

	/**
	 * The unit of a row on {@code model}: the control image read and pre-processed at the output size
	 * {@code width} × {@code height} (resized first when it has another size).
	 */
	ControlNetUnit unit(Path model, int width, int height) {
		RandomAccessibleInterval<FloatType> source = ImageFiles.readRgb(image);
		var preprocessor = ControlPreprocessors.get(type);
		return new ControlNetUnit(controlNetFor(model), ControlPreprocessors.prepare(source, preprocessor,
			new ControlOptions(low, high), width, height), preprocessor.name(), scale, start, end);
	}

	/** Adds the columns to a row's settings (kept with each result, so an edited control re-runs the row). */
	void addTo(Map<String, Object> spec) {
		spec.put("control", image.toString());
		spec.put("control_type", type);
		spec.put("controlnet", controlNet == null ? null : controlNet.toString());
		spec.put("control_scale", scale);
		spec.put("control_start", start);
		spec.put("control_end", end);
		spec.put("control_low", low);
		spec.put("control_high", high);
	}
}
